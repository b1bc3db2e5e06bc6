// Protection passwords are stored only as argon2id hashes (C2), in the PHC string format
// ($argon2id$v=19$m=19456,t=2,p=1$salt$hash). Parameters follow OWASP's password storage cheat sheet
// (19 MiB, 2 passes, 1 lane); the salt (16 random bytes) is chosen by the library, and its verify compares
// in constant time. Passwords are NFC-normalised first, so the same password typed on another device matches.
import { hash, parseOptions, verify, type Algorithm, type Options } from '@node-rs/argon2';
import { normalisePassword } from '../domain/protection-password';

// `Algorithm` is a const enum in the library's typings, which per-file compilers (swc, tsx) cannot inline.
const ARGON2ID = 2 as Algorithm;

export const ARGON2_PARAMS = { memoryCost: 19_456, timeCost: 2, parallelism: 1, outputLen: 32 } as const;
const OPTIONS: Options = { algorithm: ARGON2ID, ...ARGON2_PARAMS };

/** Longer input is never a valid password (the policy allows 128 characters); refused before hashing. */
const MAX_INPUT_CHARS = 1024;

export async function hashPassword(password: string): Promise<string> {
  if (password.length > MAX_INPUT_CHARS) throw new RangeError('password too long to hash');
  return hash(normalisePassword(password), OPTIONS);
}

/** True when the password matches; false for a wrong password, an oversized input or a hash that is not argon2id. */
export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  if (typeof password !== 'string' || password.length > MAX_INPUT_CHARS) return false;
  if (!storedHash.startsWith('$argon2id$')) return false;
  return verify(storedHash, normalisePassword(password));
}

/** True when a stored hash was made with other parameters than today's (rehash after a correct password). */
export function needsRehash(storedHash: string): boolean {
  try {
    const o = parseOptions(storedHash);
    return (
      o.algorithm !== ARGON2ID ||
      o.memoryCost !== ARGON2_PARAMS.memoryCost ||
      o.timeCost !== ARGON2_PARAMS.timeCost ||
      o.parallelism !== ARGON2_PARAMS.parallelism ||
      o.outputLen !== ARGON2_PARAMS.outputLen
    );
  } catch {
    return true;
  }
}
