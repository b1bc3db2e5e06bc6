// The Temporal SDK's logger (Runtime.install), routed to pino: the workflows' `log` (with the workflow id,
// type, run id and the request and case of workflows/log-context-interceptors.ts in its metadata), the
// activities' Context.log, and the SDK's own messages. The SDK's own chatter (bundling, worker state) is
// kept only from `sdkLevel` up; workflow and activity lines follow pino's level.
import type { LogLevel, LogMetadata, Logger as SdkLogger } from '@temporalio/common';
import { logContext, logger } from './logger';

const RANK: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };
const PINO: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

export class PinoSdkLogger implements SdkLogger {
  constructor(private readonly sdkLevel: LogLevel = 'WARN') {}

  log(level: LogLevel, message: string, meta: LogMetadata = {}): void {
    const component = meta.sdkComponent;
    if (component !== 'workflow' && component !== 'activity' && RANK[level] < RANK[this.sdkLevel]) return;
    // Outside any request's context: the metadata names the workflow itself.
    logContext.exit(() => logger[PINO[level]]({ ...meta }, message));
  }
  trace(message: string, meta?: LogMetadata) { this.log('TRACE', message, meta); }
  debug(message: string, meta?: LogMetadata) { this.log('DEBUG', message, meta); }
  info(message: string, meta?: LogMetadata) { this.log('INFO', message, meta); }
  warn(message: string, meta?: LogMetadata) { this.log('WARN', message, meta); }
  error(message: string, meta?: LogMetadata) { this.log('ERROR', message, meta); }
}
