// Records, from a running stack, one history of every workflow type the workers run, for the replay test
// (test/workflows/replay-histories.test.ts). For each type it takes the execution with the longest history
// (the one that went furthest through the code) and writes it as the JSON that `temporal workflow show
// --output json` prints, plus its workflow id in index.json. Usage, with a stack on which cases have run:
//   npm run record:histories                       # every type (fails naming the types it found no run of)
//   npm run record:histories -- sealWorkflow       # only the named types (the others are kept)
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { historyToJson } from './history-json';
import { loadConfig } from '../infra/config';
import { createTemporalClient } from '../infra/temporal';
import * as workflows from '../workflows';

const DIR = path.resolve(__dirname, '../test/replay-histories');
const INDEX = path.join(DIR, 'index.json');
/** Every workflow type the workers' bundle exports. */
const WORKFLOW_TYPES = Object.keys(workflows);

export interface RecordedHistory {
  workflowType: string;
  workflowId: string;
  file: string;
  events: number;
  recordedAt: string;
}

async function main() {
  const wanted = process.argv.slice(2).filter((a) => a !== '--');
  for (const t of wanted) if (!WORKFLOW_TYPES.includes(t)) throw new Error(`unknown workflow type: ${t} (known: ${WORKFLOW_TYPES.join(', ')})`);
  const types = wanted.length ? wanted : WORKFLOW_TYPES;
  const config = loadConfig();
  const client = await createTemporalClient(config);
  mkdirSync(DIR, { recursive: true });
  const index: RecordedHistory[] = existsSync(INDEX) ? JSON.parse(readFileSync(INDEX, 'utf8')) : [];
  const missing: string[] = [];
  try {
    for (const type of types) {
      let best: { workflowId: string; runId: string; historyLength: number } | undefined;
      for await (const wf of client.workflow.list({ query: `WorkflowType = '${type}'` })) {
        if (!best || wf.historyLength > best.historyLength) best = { workflowId: wf.workflowId, runId: wf.runId, historyLength: wf.historyLength };
      }
      if (!best) {
        missing.push(type);
        continue;
      }
      const history = await client.workflow.getHandle(best.workflowId, best.runId).fetchHistory();
      const file = `${type}.json`;
      writeFileSync(path.join(DIR, file), JSON.stringify(historyToJson(history), null, 1) + '\n');
      const entry: RecordedHistory = { workflowType: type, workflowId: best.workflowId, file, events: history.events?.length ?? 0, recordedAt: new Date().toISOString() };
      const at = index.findIndex((e) => e.file === file); // older histories kept under other names stay
      if (at >= 0) index[at] = entry;
      else index.push(entry);
      process.stdout.write(`${type}: ${best.workflowId} (${entry.events} events) → test/replay-histories/${file}\n`);
    }
  } finally {
    await client.connection.close();
  }
  index.sort((a, b) => a.file.localeCompare(b.file));
  writeFileSync(INDEX, JSON.stringify(index, null, 2) + '\n');
  if (missing.length) {
    process.stderr.write(`no execution found of: ${missing.join(', ')} (run a case through those steps first)\n`);
    process.exit(1);
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
