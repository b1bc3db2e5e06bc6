// Running workflows must survive a deployment: a case waits months for collection, a seal's workflow lives for
// years. Each workflow type the workers run has a history recorded from the real dev server (JSON, as
// `temporal workflow show --output json` prints it) in test/replay-histories/; here each replays with the
// current workflow code and the same workflow interceptors the main worker bundles. A change that would make
// a running workflow issue other commands (another activity, a timer moved, a step reordered) fails here.
// Needs no services: replay runs the workflow code only. Record new ones with `npm run record:histories`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import * as workflows from '../../workflows';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../../workers/workflow-interceptors';
import { workflowSpanSinks } from '../../workers/telemetry';
import { historyFromJson } from '../../scripts/history-json';

const DIR = path.join(__dirname, '..', 'replay-histories');
const index = JSON.parse(readFileSync(path.join(DIR, 'index.json'), 'utf8')) as Array<{ workflowType: string; workflowId: string; file: string; events: number }>;

test('every workflow type the workers run has a recorded history', () => {
  expect([...new Set(index.map((e) => e.workflowType))].sort()).toEqual(Object.keys(workflows).sort());
});

test('each recorded history replays with the current workflow code without a determinism error', async () => {
  const histories = index.map((e) => {
    const history = historyFromJson(JSON.parse(readFileSync(path.join(DIR, e.file), 'utf8')));
    // The file is what its index entry says: that type, that many events (a truncated file would replay "fine").
    expect([e.file, history.events.length, history.events[0].workflowExecutionStartedEventAttributes?.workflowType?.name]).toEqual([e.file, e.events, e.workflowType]);
    return { workflowId: e.workflowId, history };
  });
  const results: Array<{ workflowId: string; error?: string }> = [];
  const replays = Worker.runReplayHistories({ workflowsPath: require.resolve('../../workflows'), interceptors: { workflowModules: WORKFLOW_INTERCEPTOR_MODULES }, sinks: workflowSpanSinks(), replayName: 'replay-histories' }, histories);
  for await (const r of replays) results.push(r.error ? { workflowId: r.workflowId, error: `${r.error.name}: ${r.error.message}` } : { workflowId: r.workflowId });
  expect(results).toEqual(histories.map((h) => ({ workflowId: h.workflowId })));
});
