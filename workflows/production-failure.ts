// A production step that cannot succeed (a non-retryable failure: the imprint cannot draw the seal's text,
// the certificate cannot hold its name) stops the case instead of being retried for ever (S3, M2).
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';

export interface ProductionFailure {
  zh: string;
  en: string;
  code: string;
}

/** The bilingual reason of a failure that no retry can mend, or null for any other error. */
export function productionImpossible(e: unknown): ProductionFailure | null {
  if (!(e instanceof ActivityFailure) || !(e.cause instanceof ApplicationFailure) || !e.cause.nonRetryable) return null;
  const d = (e.cause.details?.[0] ?? {}) as Partial<ProductionFailure>;
  const message = e.cause.message;
  return { zh: typeof d.zh === 'string' ? d.zh : message, en: typeof d.en === 'string' ? d.en : message, code: typeof d.code === 'string' ? d.code : (e.cause.type ?? 'ProductionFailed') };
}

/** What the maker reads on the case (and the desk): what went wrong, what was undone, what to do. */
export function productionFailedReason(f: ProductionFailure): { zh: string; en: string } {
  return {
    zh: `制作无法完成：${f.zh}。已签发的证书已吊销、密钥已销毁；请告知用章单位，按正确信息重新申请。`,
    en: `Production cannot be completed: ${f.en}. Any certificate issued has been revoked and the key destroyed; tell the holder and apply again with corrected data.`,
  };
}
