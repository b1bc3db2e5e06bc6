// Workflow first (issue 17, 10.5): a case's workflow is started before the web writes the case's rows, its id
// derived from the request, so that a Temporal outage refuses the request with nothing stored and a retry
// finds the same workflow. The workflow waits for the web's word that the rows are stored (or were refused);
// if the word never comes (the web died in between, or Temporal was unreachable for the signal), it looks for
// the rows itself, every minute for ten minutes, and ends without acting if they never appeared.
import { condition, setHandler } from '@temporalio/workflow';
import type { ApplicationDbActivities } from '../activities';
import { caseRecordSignal } from './application-messages';

type Db = Pick<ApplicationDbActivities, 'caseRecordExists'>;

/** True once the case's rows exist; false if they were refused or never written. */
export async function awaitCaseRecord(caseId: string, db: Db): Promise<boolean> {
  let stored: boolean | null = null;
  setHandler(caseRecordSignal, (s) => {
    stored ??= s.stored;
  });
  for (let minute = 0; minute < 10 && stored === null; minute++) {
    if (!(await condition(() => stored !== null, '1 minute'))) {
      if (await db.caseRecordExists({ caseId })) stored = true;
    }
  }
  return stored === true;
}
