// Imported first by each process's entry point (web/server.ts, workers/*-worker.ts), before any module that
// OpenTelemetry patches (http, pg) is loaded: starts tracing when an OTLP endpoint is configured. The service
// name is the entry point's (eseal-web, eseal-main-worker, eseal-hsm-worker), or OTEL_SERVICE_NAME.
import path from 'node:path';
import { startTracing } from './tracing';

const entry = path.basename(process.argv[1] ?? 'process', path.extname(process.argv[1] ?? ''));
startTracing(entry === 'server' ? 'eseal-web' : `eseal-${entry}`);
