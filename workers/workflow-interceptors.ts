// The workflow interceptor modules bundled with the workflows: by the main worker, by the supervisor that
// bundles them once (scripts/back-office.ts), and by the replay test, so all three run the same code.
// The OpenTelemetry ones make a span of each workflow run, signal, update and activity schedule (workers/telemetry.ts;
// none for queries and validators: workflows/tracing-interceptors.ts).
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../workflows/log-context-interceptors'), require.resolve('../workflows/tracing-interceptors')];
