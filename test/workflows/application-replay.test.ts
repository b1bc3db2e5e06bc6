// Workflow code changes must replay the histories of cases already running (a case waits up to three
// months for collection). The history here (binary protobuf, as fetched from the dev server) is a whole
// case, submission to collection, recorded on 2026-11-27. Needs no services: replay runs the workflow
// code only.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';

const history = (name: string) => temporal.api.history.v1.History.decode(readFileSync(path.join(__dirname, 'histories', `${name}.binpb`)));

test('M2 M3 M10: a whole case recorded by an earlier version of the workflow replays with the current code', async () => {
  const collected = history('application-collected-2026-11-27');
  expect(collected.events.map((e) => e.eventType)).toContain(temporal.api.enums.v1.EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED);
  await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, collected, 'application:a0de95d1-9cce-497d-98ee-fd5018c5cca6');
});
