// Structured JSON logs (pino). Every line carries the log context of the work it belongs to (request id,
// workflow id, case or seal id), kept in an AsyncLocalStorage that the web middleware, and the Temporal
// activity interceptor on the workers, open for each request and each activity.
import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogContext } from '../../domain/log-context';
import { activeTraceIds } from './spans';

export const logContext = new AsyncLocalStorage<LogContext>();

/** The log context of the work now running (empty outside a request or an activity). */
export function currentLogContext(): LogContext {
  return logContext.getStore() ?? {};
}

/** Adds fields to the current context (e.g. the workflow a request started), for the lines that follow. */
export function addToLogContext(fields: LogContext): void {
  const store = logContext.getStore();
  if (store) Object.assign(store, fields);
}

// Never in a log line (C1 C2 P1: passwords, tokens, keys and ID numbers are not kept in clear anywhere), at the
// top level, one level down and in logged HTTP headers.
const SECRET_KEYS = ['password', 'newPassword', 'new_password', 'token', 'accessToken', 'secret', 'pin', 'hsmPin', 'id_number', 'idNumber', 'authorization', 'cookie', 'phone', 'privateKey'];
export const REDACT_PATHS = [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`), 'req.headers.authorization', 'req.headers.cookie', 'headers["set-cookie"]'];

/** LOG_LEVEL (default info; under jest, warn, so test output stays readable). */
function defaultLevel(env: NodeJS.ProcessEnv): string {
  return env.LOG_LEVEL ?? (env.JEST_WORKER_ID ? 'warn' : 'info');
}

export function createLogger(destination?: DestinationStream, level = defaultLevel(process.env)): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // The context of the running work and its trace (when tracing is on); fields given in the call itself win.
      mixin: () => ({ ...currentLogContext(), ...activeTraceIds() }),
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}

/** The process's logger (stdout). */
export let logger: Logger = createLogger();

/** Replaces the process's logger (a test collects lines from a stream); returns the previous one. */
export function setLogger(next: Logger): Logger {
  const previous = logger;
  logger = next;
  return previous;
}
