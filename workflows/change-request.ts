// A lifecycle request (suspend, resume, stop, cancel, replace) after the maker processed it: the change is
// filed with the holder's district under the same 24-hour rule as production (M12, M13).
import type { CaseState } from './application-messages';
import { createCaseDesk, now } from './case-desk';
import type { FilingKind } from './case-desk';

export interface ChangeRequestInput {
  caseId: string;
  kind: Exclude<FilingKind, 'production' | 'cancellation'> | 'cancel';
  districtCode: string;
  filingDeadlineMs: number;
}

export async function changeRequestWorkflow(input: ChangeRequestInput): Promise<CaseState> {
  const desk = createCaseDesk(input.caseId, input.districtCode, 'processing');
  const processedAt = now();
  await desk.record('processed', { kind: input.kind });
  await desk.fileWithPolice(input.kind === 'cancel' ? 'cancellation' : input.kind, processedAt, input.filingDeadlineMs);
  await desk.moveTo('completed', 'completed');
  await desk.finish();
  return desk.state;
}
