// The workflow interceptor modules bundled with the workflows: by the main worker, by the supervisor that
// bundles them once (scripts/back-office.ts), and by the replay test, so all three run the same code.
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../workflows/log-context-interceptors')];
