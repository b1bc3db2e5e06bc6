// Traces through the product's own processes, as `make up` runs them: the web and both workers are started as
// separate processes with an OTLP endpoint, and export by OTLP/HTTP to a small receiver in this test. One
// request that runs a workflow (a platform statement: web → Temporal → an HSM activity and a database
// activity) must be ONE trace tree: the web's HTTP span is its only root, and under it the workflow start, the
// workflow run (main worker), each activity (HSM and main worker), their PostgreSQL queries and the HSM call.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { createDb, type Db } from '../../infra/db';
import { freePorts } from '../helpers/ports';
import { createUser, testConfig } from '../helpers/stack';
import { eventually } from '../helpers/wait';

interface Span { traceId: string; spanId: string; parentSpanId?: string; name: string; service: string }
interface OtlpJson {
  resourceSpans?: { resource?: { attributes?: { key: string; value: { stringValue?: string } }[] }; scopeSpans?: { spans?: Omit<Span, 'service'>[] }[] }[];
}

const root = path.resolve(__dirname, '../..');
const artifacts = path.resolve(root, 'test-artifacts/observability');
const logFile = path.join(artifacts, 'trace-processes.jsonl'); // the three processes' log lines
const spans: Span[] = [];
const children: ChildProcess[] = [];
let receiver: Server;
let db: Db;
let webUrl: string;

/** An OTLP/HTTP traces receiver (JSON, as @opentelemetry/exporter-trace-otlp-http sends it). */
function startReceiver(port: number): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpJson;
          for (const rs of body.resourceSpans ?? []) {
            const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
            for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, name: s.name, service });
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** One of the product's processes; resolves once it is ready (a worker says so, the web answers /healthz). */
function startProcess(file: string, env: NodeJS.ProcessEnv, saysReady: boolean): Promise<void> {
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, file)], { env, stdio: ['ignore', out, 'inherit', 'ipc'], detached: true });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`${file} exited (${signal ?? code}) before it was ready`)));
    if (saysReady) child.on('message', (m) => m === 'ready' && resolve());
    else child.once('spawn', () => resolve());
  });
}

beforeAll(async () => {
  const config = testConfig();
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(logFile, '');
  db = createDb(config.runtime.databaseUrl!);
  const [otlpPort, webPort] = await freePorts(2);
  receiver = await startReceiver(otlpPort);
  const suffix = `-tracing-${process.pid}`; // this test's own task queues: no other test's worker takes its tasks
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`,
    OTEL_BSP_SCHEDULE_DELAY: '200', // send within a fraction of a second (default 5 s)
    WEB_PORT: String(webPort),
    ESEAL_TEMPORAL_TASK_QUEUES_MAIN: `eseal-main${suffix}`,
    ESEAL_TEMPORAL_TASK_QUEUES_HSM: `eseal-hsm${suffix}`,
    LOG_LEVEL: 'debug', // the activities' lines too
  };
  webUrl = `http://127.0.0.1:${webPort}`;
  await Promise.all([startProcess('workers/main-worker.ts', env, true), startProcess('workers/hsm-worker.ts', env, true), startProcess('web/server.ts', env, false)]);
  await eventually('the web to answer', () => fetch(`${webUrl}/healthz`).then((r) => r.status, () => 0), (s) => s === 200, 60_000);
}, 100_000);

afterAll(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null && c.pid) {
      try {
        process.kill(-c.pid, 'SIGKILL'); // the process group: nothing it started outlives the test
      } catch {
        /* already gone */
      }
    }
  }
  await new Promise((r) => receiver?.close(r));
  await db?.destroy();
});

test('one request that runs a workflow is one trace: web HTTP span → workflow start → workflow run → activities (HSM and main worker) → PostgreSQL queries and the HSM call', async () => {
  const supervisor = await createUser(db, 'supervisor');
  const requestId = `trace-${randomUUID()}`;
  const res = await fetch(`${webUrl}/api/platform/statements`, {
    method: 'POST',
    headers: { authorization: `Bearer ${supervisor.token}`, 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ kind: 'trace.demo', payload: { request: requestId } }),
  });
  expect(res.status).toBe(201);
  const statementId = ((await res.json()) as { id: string }).id;

  // The request's span, then every span of its trace until the activities' queries have arrived.
  const http = await eventually('the web request\'s span', async () => spans.find((s) => s.service === 'eseal-web' && s.name === 'POST /api/platform/statements' && !s.parentSpanId), (s) => s !== undefined, 10_000);
  const traceId = http!.traceId;
  const of = (name: string | RegExp) => spans.filter((s) => s.traceId === traceId && (typeof name === 'string' ? s.name === name : name.test(s.name)));
  const childOf = (parent: Span, name: string | RegExp) => of(name).find((s) => s.parentSpanId === parent.spanId);
  await eventually('the workflow and activity spans', async () => of(/^(RunWorkflow|RunActivity|hsm\.|pg\.query)/).map((s) => s.name), () => {
    const run = of('RunActivity:storePlatformStatement')[0];
    const sign = of('RunActivity:signPlatformStatement')[0];
    return !!run && !!sign && of('RunWorkflow:signStatementWorkflow').length === 1 && !!childOf(run, /^pg\.query/) && !!childOf(sign, /^hsm\./);
  }, 15_000);

  const trace = spans.filter((s) => s.traceId === traceId);
  // ONE tree: a single root (the HTTP request), every other span's parent in the same trace.
  const ids = new Set(trace.map((s) => s.spanId));
  expect(trace.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId)).map((s) => s.name)).toEqual(['POST /api/platform/statements']);
  // The path down each branch, and which process made each span.
  const start = childOf(http!, 'StartWorkflow:signStatementWorkflow');
  expect(start?.service).toBe('eseal-web');
  const run = childOf(start!, 'RunWorkflow:signStatementWorkflow');
  expect(run?.service).toBe('eseal-main-worker');
  const startSign = childOf(run!, 'StartActivity:signPlatformStatement');
  const sign = childOf(startSign!, 'RunActivity:signPlatformStatement');
  expect(sign?.service).toBe('eseal-hsm-worker');
  expect(childOf(sign!, /^hsm\.sign/)?.service).toBe('eseal-hsm-worker');
  const startStore = childOf(run!, 'StartActivity:storePlatformStatement');
  const store = childOf(startStore!, 'RunActivity:storePlatformStatement');
  expect(store?.service).toBe('eseal-main-worker');
  expect(childOf(store!, /^pg\.query/)?.service).toBe('eseal-main-worker');
  // The web's own read of the statement is a query of the same request.
  expect(of(/^pg\.query/).some((s) => s.service === 'eseal-web')).toBe(true);
  expect((await db('platform_statements').where({ id: statementId })).length).toBe(1);

  // The log lines of the request and of its activities name the trace (pino's mixin reads the active span).
  const logLines = () => readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.requestId === requestId);
  const mine = await eventually('the request\'s log lines', async () => logLines(), (ls) => ls.some((l) => l.route) && ls.some((l) => l.activity === 'storePlatformStatement'), 10_000);
  expect(mine.find((l) => l.route === '/api/platform/statements')).toMatchObject({ status: 201, traceId });
  expect(mine.find((l) => l.activity === 'signPlatformStatement')).toMatchObject({ traceId, spanId: sign!.spanId });
  expect(mine.find((l) => l.activity === 'storePlatformStatement')).toMatchObject({ traceId, spanId: store!.spanId });

  // The tree, for the README and a reader of traces (test-artifacts/observability/trace.txt).
  const lines: string[] = [];
  const print = (s: Span, depth: number) => {
    lines.push(`${'  '.repeat(depth)}${s.name}  [${s.service}]`);
    for (const c of trace.filter((t) => t.parentSpanId === s.spanId)) print(c, depth + 1);
  };
  print(http!, 0);
  writeFileSync(path.join(artifacts, 'trace.txt'), `trace ${traceId}\n${lines.join('\n')}\n`);
});
