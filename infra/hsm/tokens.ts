// M4: one token per role (see TOKEN_ENV in ../config.ts). A process opens only the tokens its configuration
// holds: the web its own (`web`), HSM workers `issuing` and `web`; the root token is opened only by
// provisioning while the CA does not exist yet and by `npm run pki:ceremony`, which read its settings
// from the environment themselves (rootTokenSettings): the running system's configuration never has them.
import { tokenSettings, type Config, type HsmTokenSettings } from '../config';
import { Hsm, type HsmOpenOptions } from './hsm';

export type RunningTokenRole = 'issuing' | 'web';

/** The settings of a token this process holds; a clear error names the variable when it holds none. */
export function heldToken(config: Pick<Config, 'runtime'>, role: RunningTokenRole): HsmTokenSettings {
  const t = config.runtime.tokens[role];
  if (!t) throw new Error(`this process holds no settings of the ${role} token (HSM_TOKENS=${Object.keys(config.runtime.tokens).join(',')}): it may not open it`);
  return t;
}

export function tokenOpenOptions(config: Pick<Config, 'runtime'>, role: RunningTokenRole, extra: Partial<HsmOpenOptions> = {}): HsmOpenOptions {
  const t = heldToken(config, role);
  return { modulePath: config.runtime.pkcs11Module, tokenLabel: t.label, pin: t.pin, ...extra };
}

export function openToken(config: Pick<Config, 'runtime'>, role: RunningTokenRole, extra: Partial<HsmOpenOptions> = {}): Promise<Hsm> {
  return Hsm.open(tokenOpenOptions(config, role, extra));
}

/** The root token's settings, for provisioning and the ceremony only (never part of a running process's Config). */
export function rootTokenSettings(config: Pick<Config, 'runtime'>, env: NodeJS.ProcessEnv = process.env): HsmTokenSettings {
  return tokenSettings('root', env, config.runtime);
}

/** The issuing and web tokens of an HSM worker (seal keys and CAs; personal data), closed together. */
export interface WorkerTokens {
  issuing: Hsm;
  web: Hsm;
  close(): Promise<void>;
}

export async function openWorkerTokens(config: Pick<Config, 'runtime'>): Promise<WorkerTokens> {
  const issuing = await openToken(config, 'issuing');
  try {
    const web = await openToken(config, 'web');
    return { issuing, web, close: async () => void (await Promise.all([issuing.close(), web.close()])) };
  } catch (e) {
    await issuing.close();
    throw e;
  }
}
