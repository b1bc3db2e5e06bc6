// Every activity's timeouts and retry policy, in one place (workflow code: no Node built-ins).
//
// - Timeouts fit the work, so a worker that dies mid-activity holds its case for seconds, not minutes: the
//   attempt is retried when its start-to-close (or heartbeat) timeout runs out.
// - Transient faults (a worker, PostgreSQL, the HSM or Temporal restarting) are retried with a short backoff
//   until they heal; a case moves again within seconds of the fault ending. A domain error (a business rule
//   refused the step) is never retried: activities/failure-interceptor.ts turns it into a non-retryable
//   failure. An activity still failing after LONG_FAILING_ATTEMPTS attempts is listed for administrators
//   (usecases/failing-activities.ts) instead of retrying silently.
// - Long activities heartbeat (the interceptor does, every third of heartbeatTimeout), so a dead worker is
//   noticed within the heartbeat timeout, not the whole start-to-close.
// Changing these options is replay-safe: Temporal matches activities by type and order, not by options.
import { ActivityFailure, ApplicationFailure, type ActivityOptions, type RetryPolicy } from '@temporalio/common';
import type { DomainFailureDetails } from '../activities/failure-interceptor';

/** Up to 5 s between attempts: a fault that ends is noticed within seconds. */
const untilHealed: RetryPolicy = { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds' };

/** Attempts after which an activity counts as failing for a long time (about a minute of failures at 5 s). */
export const LONG_FAILING_ATTEMPTS = 10;

export const ACTIVITY_POLICIES = {
  /** A few SQL statements in PostgreSQL (projections, tasks, filings, ledger rows). */
  dbStatement: { startToCloseTimeout: '10 seconds', retry: untilHealed },
  /** One PKCS#11 operation, or a few, in the HSM worker (key generation, certificate, signature, CRL). */
  hsmOperation: { startToCloseTimeout: '10 seconds', retry: untilHealed },
  /** An HTML + PDF document rendered in Chromium (the first one of a worker also starts Chromium). */
  documentRendering: { startToCloseTimeout: '2 minutes', heartbeatTimeout: '10 seconds', retry: untilHealed },
  /** Erasing an archive's personal data and files, or purging a video segment's bytes (up to 2 GiB). */
  disposal: { startToCloseTimeout: '10 minutes', heartbeatTimeout: '20 seconds', retry: { ...untilHealed, maximumInterval: '1 minute' } },
  /**
   * One message to one account through SMTP or the SMS gateway: a server that is down is tried again with
   * backoff (10 s doubling to 10 min) for up to 24 hours, then the delivery is recorded failed; a refusal for
   * good (SMTP 5xx, gateway 4xx) is not retried.
   */
  messageSend: {
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: '24 hours',
    retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', nonRetryableErrorTypes: ['PermanentSendError'] },
  },
  /** The readiness probe: one attempt, answered within 5 s or not at all (the caller is waiting). */
  hsmProbe: { scheduleToCloseTimeout: '5 seconds', retry: { maximumAttempts: 1 } },
} as const satisfies Record<string, ActivityOptions>;

/** The audit head signer long-polls for up to `everySeconds`, heartbeating (activities/audit-heads.ts). */
export function auditHeadPolling(everySeconds: number): ActivityOptions {
  return {
    startToCloseTimeout: `${everySeconds + 60} seconds`,
    heartbeatTimeout: '10 seconds', // a cancellation reaches the polling activity within seconds
    retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
  };
}

/** The same options on another task queue (the HSM worker's). */
export const onQueue = (taskQueue: string, options: ActivityOptions): ActivityOptions => ({ ...options, taskQueue });

/**
 * The domain error behind an activity's failure (made non-retryable by activities/failure-interceptor.ts),
 * or null for any other failure, so a workflow can close its case with the bilingual reason.
 */
export function domainRefusal(e: unknown): DomainFailureDetails | null {
  if (!(e instanceof ActivityFailure) || !(e.cause instanceof ApplicationFailure) || !e.cause.nonRetryable) return null;
  const d = e.cause.details?.[0] as Partial<DomainFailureDetails> | undefined;
  return d && typeof d.code === 'string' && typeof d.messageZh === 'string' && typeof d.messageEn === 'string' ? (d as DomainFailureDetails) : null;
}
