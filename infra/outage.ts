// Tells an outage of a service (Temporal, PostgreSQL, the HSM) from a bug, so that the web answers 503 with
// Retry-After and clients retry, instead of a 500 "internal". Errors arrive wrapped (knex, Temporal's client,
// our own adapters), so the whole cause chain is examined.
import * as pkcs11js from 'pkcs11js';

export type Service = 'temporal' | 'postgresql' | 'hsm';

export const SERVICE_NAMES: Record<Service, { zh: string; en: string }> = {
  temporal: { zh: '工作流服务（Temporal）', en: 'The workflow service (Temporal)' },
  postgresql: { zh: '数据库（PostgreSQL）', en: 'The database (PostgreSQL)' },
  hsm: { zh: '密码设备（HSM）', en: 'The hardware security module (HSM)' },
};

/** gRPC status codes that mean "the server did not answer" (not a refusal of the request itself). */
const GRPC_UNREACHABLE = new Set([4 /* DEADLINE_EXCEEDED */, 14 /* UNAVAILABLE */]);
/** Socket errors of the PostgreSQL driver (the only raw-socket client these processes use per request). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** SQLSTATE class 08 (connection exception) and 57P01–57P03 (the server is shutting down or starting). */
const PG_UNAVAILABLE = /^(08\d\d\d|57P0[123])$/;
const PG_MESSAGES = /Connection terminated|Client has encountered a connection error|Timeout acquiring a connection|the database system is (starting up|shutting down)/;
const HSM_CODES = new Set(
  [
    pkcs11js.CKR_DEVICE_ERROR, pkcs11js.CKR_DEVICE_MEMORY, pkcs11js.CKR_DEVICE_REMOVED, pkcs11js.CKR_TOKEN_NOT_PRESENT,
    pkcs11js.CKR_TOKEN_NOT_RECOGNIZED, pkcs11js.CKR_SESSION_CLOSED, pkcs11js.CKR_SESSION_HANDLE_INVALID,
    pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED, pkcs11js.CKR_USER_NOT_LOGGED_IN,
  ].filter((c) => typeof c === 'number'),
);

interface ErrorLike { name?: string; message?: string; code?: unknown; cause?: unknown; details?: unknown }

/** Which service an error says is unreachable, or null when it is something else (a bug, a refusal). */
export function unreachableService(err: unknown): Service | null {
  for (let e = err as ErrorLike | undefined, depth = 0; e && typeof e === 'object' && depth < 8; e = e.cause as ErrorLike | undefined, depth++) {
    const name = e.name ?? '';
    const message = typeof e.message === 'string' ? e.message : '';
    // Temporal's client: ServiceError (cause: the gRPC error), or a transport failure while connecting.
    if (name === 'TransportError') return 'temporal';
    if (typeof e.code === 'number' && GRPC_UNREACHABLE.has(e.code) && ('details' in e || 'metadata' in e)) return 'temporal';
    // A query with no worker to answer it: Temporal is up, its workers are not.
    if (e.code === 9 /* FAILED_PRECONDITION */ && /no poller seen/.test(message)) return 'temporal';
    if (name === 'Pkcs11Error' && typeof e.code === 'number' && HSM_CODES.has(e.code)) return 'hsm';
    if (message === 'HSM adapter is closed' || /^HSM did not answer within/.test(message)) return 'hsm';
    if (name === 'KnexTimeoutError') return 'postgresql';
    if (typeof e.code === 'string' && (SOCKET_CODES.has(e.code) || PG_UNAVAILABLE.test(e.code))) return 'postgresql';
    if (PG_MESSAGES.test(message)) return 'postgresql';
    if (Array.isArray((e as { errors?: unknown[] }).errors)) {
      // AggregateError (Node's net, trying each address): the connection was refused on every one.
      const inner = (e as { errors: unknown[] }).errors.map(unreachableService).find(Boolean);
      if (inner) return inner;
    }
  }
  return null;
}
