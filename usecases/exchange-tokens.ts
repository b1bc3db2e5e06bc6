// The API token's stored form (web/auth.ts keeps the same): SHA-256 of the token, never the token.
import { createHash } from 'node:crypto';

export const tokenSha256 = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');
