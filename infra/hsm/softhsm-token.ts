import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import vm from 'node:vm';

const run = promisify(execFile);

export const DEFAULT_PKCS11_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsmTokenOptions {
  dataDir: string;
  label: string;
  soPin: string;
  userPin: string;
  /** PKCS#11 module; defaults to $PKCS11_MODULE, then the Debian SoftHSM2 path. */
  modulePath?: string;
}

export interface SoftHsmToken {
  confPath: string;
  modulePath: string;
}

/**
 * Sets SOFTHSM2_CONF where SoftHSM reads it: the C environment, at C_Initialize. Under jest `process` is a
 * sandbox copy whose env never reaches native code, so the real process object (same object elsewhere) is
 * set too. Returns the previous value; pass it back (undefined unsets) to restore.
 */
export function setSoftHsmConf(confPath: string | undefined): string | undefined {
  const real = vm.runInThisContext('process') as NodeJS.Process;
  const previous = real.env.SOFTHSM2_CONF;
  for (const env of new Set([process.env, real.env])) {
    if (confPath === undefined) delete env.SOFTHSM2_CONF;
    else env.SOFTHSM2_CONF = confPath;
  }
  return previous;
}

/** Labels of the initialised tokens that `softhsm2-util --show-slots` reports. */
export async function listSoftHsmTokenLabels(confPath: string): Promise<string[]> {
  const { stdout } = await run('softhsm2-util', ['--show-slots'], {
    env: { ...process.env, SOFTHSM2_CONF: confPath },
  });
  const labels: string[] = [];
  // Each slot prints "Initialized: yes|no" before "Label: ..."; the free slot has an empty label.
  let initialized = false;
  for (const line of stdout.split('\n')) {
    const init = /^\s*Initialized:\s*(\w+)/.exec(line);
    if (init) initialized = init[1] === 'yes';
    const label = /^\s*Label:(.*)$/.exec(line);
    if (label && initialized) labels.push(label[1].trim());
  }
  return labels;
}

/**
 * Writes a SoftHSM2 config under `<dataDir>/hsm`, points SOFTHSM2_CONF at it and
 * initialises a token with `label` unless one already exists (a rerun keeps the token and its keys).
 * Not safe against two processes provisioning the same dataDir at the same instant:
 * run it from one place (the `up` script / provision CLI).
 */
export async function ensureSoftHsmToken(opts: SoftHsmTokenOptions): Promise<SoftHsmToken> {
  const hsmDir = path.resolve(opts.dataDir, 'hsm');
  const tokenDir = path.join(hsmDir, 'tokens');
  const confPath = path.join(hsmDir, 'softhsm2.conf');
  await mkdir(tokenDir, { recursive: true, mode: 0o700 });
  await writeFile(
    confPath,
    `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\n`,
    { mode: 0o600 },
  );
  // SoftHSM reads this at C_Initialize, so it must be set before any Hsm.open in this process.
  setSoftHsmConf(confPath);
  const modulePath = opts.modulePath || process.env.PKCS11_MODULE || DEFAULT_PKCS11_MODULE;

  const labels = await listSoftHsmTokenLabels(confPath);
  if (!labels.includes(opts.label)) {
    // softhsm2-util has no way to read PINs from a file/stdin non-interactively, so they appear in argv briefly.
    await run(
      'softhsm2-util',
      ['--init-token', '--free', '--label', opts.label, '--so-pin', opts.soPin, '--pin', opts.userPin],
      { env: { ...process.env, SOFTHSM2_CONF: confPath } },
    );
  }
  return { confPath, modulePath };
}
