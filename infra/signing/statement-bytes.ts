// What the platform signs for a statement, shared by the signing activity and the use-case that verifies it.
import canonicalize from 'canonicalize';

/** The bytes that are signed: RFC 8785 canonical JSON of { kind, payload }. */
export function statementBytes(kind: string, payload: Record<string, unknown>): Buffer {
  return Buffer.from(canonicalize({ kind, payload }) ?? '', 'utf8');
}
