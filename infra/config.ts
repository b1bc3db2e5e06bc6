// Configuration: temporal.yaml (Temporal and the regulation's durations) plus environment variables
// (where services live on this machine). Invalid values stop start-up with a message naming the key.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const isoDuration = z
  .string()
  .regex(/^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/, 'an ISO 8601 duration such as PT24H or P3M');
const port = z.coerce.number().int().min(1).max(65535);
const bool = z.preprocess((v) => (typeof v === 'string' ? ['1', 'true', 'yes'].includes(v.toLowerCase()) : v), z.boolean());

// Uploaded files (infra/blobs): local disk by default, an S3-compatible bucket for scale.
const blobsSchema = z
  .object({
    backend: z.enum(['local', 's3']),
    local: z.object({ dir: z.string() }),
    s3: z.object({
      endpoint: z.union([z.literal(''), z.string().url()]),
      bucket: z.string(),
      region: z.string().min(1),
      accessKeyId: z.string(),
      secretAccessKey: z.string(),
      forcePathStyle: bool,
      prefix: z.string().regex(/^([A-Za-z0-9._-]+\/)*$/, 'empty, or path segments each ending in /'),
      spoolDir: z.string(),
    }),
  })
  .refine((b) => b.backend !== 's3' || /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b.s3.bucket), { message: 'an S3 bucket name is required with backend s3', path: ['s3', 'bucket'] })
  .refine((b) => !b.s3.accessKeyId === !b.s3.secretAccessKey, { message: 'set both the access key ID and the secret, or neither', path: ['s3', 'secretAccessKey'] });

// Delivery of outbox messages (workflows/message-delivery.ts): which channels, and where they send.
const notifySchema = z.object({
  channels: z
    .string()
    .transform((v) => v.split(',').map((c) => c.trim()).filter(Boolean))
    .pipe(z.array(z.enum(['inbox', 'email', 'sms'])).min(1, 'at least one of inbox, email, sms')),
  smtp: z.object({ host: z.string().min(1), port, secure: bool, from: z.string().min(3) }),
  // The SMTP server `make up` and the tests start (mailpit) when smtp.host is this machine; its web UI here.
  mailpit: z.object({ uiPort: port }),
  sms: z.object({ url: z.union([z.literal(''), z.string().url()]) }),
  // Where links in messages point (the web's public address). Empty: this machine's web port.
  publicBaseUrl: z.union([z.literal(''), z.string().url()]),
});

const fileSchema = z.object({
  temporal: z.object({
    address: z.string().min(3),
    namespace: z.string().regex(/^[A-Za-z0-9_.-]+$/),
    tls: z.object({
      enabled: bool,
      serverName: z.string(),
      caFile: z.string(),
      certFile: z.string(),
      keyFile: z.string(),
    }),
    taskQueues: z.object({ main: z.string().min(1), hsm: z.string().min(1) }),
    searchAttributes: z.record(z.string(), z.enum(['Keyword', 'Text', 'Int', 'Double', 'Bool', 'Datetime', 'KeywordList'])),
    devServer: z.object({ port, uiPort: port, dbFile: z.string().min(1) }),
  }),
  durations: z.object({
    filingDeadline: isoDuration,
    unclaimedCancellation: isoDuration,
    videoRetention: isoDuration,
    archiveRetention: isoDuration,
    passwordExpiry: isoDuration,
    resetLinkValidity: isoDuration,
    resetCodeValidity: isoDuration,
    useApprovalDeadline: isoDuration,
    calendarTimeZone: z.literal('Asia/Shanghai'),
  }),
  pki: z.object({
    sealCertificateValidityYears: z.coerce.number().int().min(1).max(20),
    crlNextUpdateHours: z.coerce.number().int().min(1).max(24 * 31),
    // Where relying parties reach the PKI routes (CRL, OCSP, CA certificates), written into every seal
    // certificate (CRL Distribution Points, Authority Information Access). Empty: this machine's web port.
    publicBaseUrl: z.union([z.literal(''), z.string().url().regex(/^https?:\/\/[^?#]*[^/?#]$/, 'an http(s) URL without a trailing slash, query or fragment')]),
    // The certificate policy seal certificates assert (certificatePolicies).
    sealCertificatePolicyOid: z.string().regex(/^[0-2](\.(0|[1-9]\d*)){2,}$/, 'a dotted object identifier such as 1.2.156.xxx'),
    // The policy the platform's time-stamping authority names in its tokens (TSTInfo.policy).
    tsaPolicyOid: z.string().regex(/^[0-2](\.(0|[1-9]\d*)){2,}$/, 'a dotted object identifier such as 1.2.156.xxx'),
    // B-T signatures' timestamps from an external RFC 3161 TSA at this URL instead of the platform's own.
    tsaUrl: z.union([z.literal(''), z.string().url().regex(/^https?:\/\//, 'an http(s) URL')]),
    // Issue 13: which algorithm suites seals get. intl: ECDSA P-256/SHA-256 only; gm: SM2/SM3 (the SM2 CA
    // chain, SM2 seal certificates, the SESeal at production, OFD signing); both: the two side by side.
    algorithmSuite: z.enum(['intl', 'gm', 'both']),
    // PDFs larger than this are signed (PAdES) from their staging file without being read whole
    // (infra/signing/pades-stream.ts); smaller ones in memory (infra/signing/pades.ts). 0: always streamed.
    padesStreamAboveBytes: z.coerce.number().int().min(0).default(32 * 1024 * 1024),
  }),
  records: z.object({ correctionNeedsOfficerApproval: bool }),
  // A3: the market-regulation authority's signed batches; "newly registered" means within the window.
  registration: z.object({
    newlyRegisteredDays: z.coerce.number().int().min(0).max(3650),
    inboxScanMinutes: z.coerce.number().int().min(1).max(1440),
  }),
  blobs: blobsSchema,
  notify: notifySchema,
});

const tokenSchema = z.object({ label: z.string().min(1).max(32), pin: z.string().min(4), soPin: z.string().min(4) });
export type HsmTokenSettings = z.infer<typeof tokenSchema>;

const envSchema = z.object({
  dataDir: z.string().min(1),
  webPort: port,
  databaseUrl: z.string().url().optional(),
  databaseOwnerUrl: z.string().url().optional(), // migrations; without it DATABASE_URL is the owner's
  databaseAppUser: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a plain PostgreSQL role name'),
  // Optional here: infra/services/postgres.ts defaults it for the embedded server only.
  databaseAppPassword: z.string().min(8).optional(),
  postgresPort: port,
  pkcs11Module: z.string().min(1),
  // M4: one token per role (infra/hsm/tokens.ts); a process holds the settings of its own tokens only.
  tokens: z.object({ issuing: tokenSchema.optional(), web: tokenSchema.optional() }),
  temporalCli: z.string().optional(),
  demoData: bool,
});

export type FileConfig = z.infer<typeof fileSchema>;
export type Config = FileConfig & { runtime: z.infer<typeof envSchema>; rootDir: string };

export class ConfigError extends Error {}

/** The PKCS#11 module of the SoftHSM tokens this project creates itself (scripts/stack.ts). */
export const PROJECT_SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

/**
 * M4: the platform's tokens, one per role, each with its own label and PINs. `root`: the root CA key only,
 * opened by provisioning (while the CA does not exist yet) and by `npm run pki:ceremony`, never by the running
 * system. `issuing`: issuing CA, platform and audit signing keys, seal wrapping key (HSM workers). `web`: the OCSP
 * responder key and the personal-data KEK (web, and HSM workers for personal data). The issuing token keeps
 * the settings of the single token of earlier versions (HSM_TOKEN_LABEL, HSM_PIN), so that token becomes it.
 */
export type TokenRole = 'root' | 'issuing' | 'web';
// No label is the beginning of another: pkcs11-tool and OpenSC pick the first token whose label starts with the
// one asked for, so `eseal-web` beside `eseal` would let `--token-label eseal` open the web token.
export const TOKEN_ENV: Record<TokenRole, { label: string; pin: string; soPin: string; projectLabel: string; demoPin: string; demoSoPin: string }> = {
  // Demo PINs, only ever for the SoftHSM tokens this project creates under DATA_DIR (checked in tokenSettings).
  root: { label: 'HSM_ROOT_TOKEN_LABEL', pin: 'HSM_ROOT_PIN', soPin: 'HSM_ROOT_SO_PIN', projectLabel: 'root-eseal', demoPin: '20190101', demoSoPin: '19990101' },
  issuing: { label: 'HSM_TOKEN_LABEL', pin: 'HSM_PIN', soPin: 'HSM_SO_PIN', projectLabel: 'eseal', demoPin: '20190419', demoSoPin: '19990425' },
  web: { label: 'HSM_WEB_TOKEN_LABEL', pin: 'HSM_WEB_PIN', soPin: 'HSM_WEB_SO_PIN', projectLabel: 'web-eseal', demoPin: '20190801', demoSoPin: '19990801' },
};
/** The issuing token's label when HSM_TOKEN_LABEL is not set (the single token of earlier versions). */
export const PROJECT_TOKEN_LABEL = TOKEN_ENV.issuing.projectLabel;

/**
 * A token's label and PINs from the environment. The demo PINs only for the project's own SoftHSM token
 * (default module, label and SOFTHSM2_CONF under DATA_DIR): anything else without its PIN stops start-up
 * naming the variable.
 */
export function tokenSettings(role: TokenRole, env: NodeJS.ProcessEnv, runtime: { dataDir: string; pkcs11Module: string }): HsmTokenSettings {
  const names = TOKEN_ENV[role];
  const label = env[names.label] || names.projectLabel;
  const pin = env[names.pin];
  if (pin === undefined) {
    const projectConf = path.join(runtime.dataDir, 'hsm', 'softhsm2.conf');
    const foreign =
      runtime.pkcs11Module !== PROJECT_SOFTHSM_MODULE
        ? `PKCS11_MODULE=${runtime.pkcs11Module}`
        : label !== names.projectLabel
          ? `${names.label}=${label}`
          : env.SOFTHSM2_CONF && path.resolve(env.SOFTHSM2_CONF) !== projectConf
            ? `SOFTHSM2_CONF=${env.SOFTHSM2_CONF}`
            : null;
    if (foreign) {
      throw new ConfigError(`Invalid environment:\n  ${names.pin}: required with ${foreign}: the demo PIN is only for the SoftHSM tokens this project creates (${projectConf})`);
    }
  }
  const parsed = tokenSchema.safeParse({ label, pin: pin ?? names.demoPin, soPin: env[names.soPin] ?? names.demoSoPin });
  if (!parsed.success) {
    const field = { label: names.label, pin: names.pin, soPin: names.soPin };
    throw new ConfigError(`Invalid environment:\n${describeIssues(parsed.error, '', (p) => field[p[0] as keyof typeof field] ?? p.join('.'))}`);
  }
  return parsed.data;
}

/** HSM_TOKENS: the tokens this process opens (default both; the web gets `web`, the main worker none). */
function heldTokens(env: NodeJS.ProcessEnv): Array<'issuing' | 'web'> {
  const raw = env.HSM_TOKENS ?? 'issuing,web';
  const list = raw.split(',').map((t) => t.trim()).filter(Boolean);
  const bad = list.filter((t) => t !== 'issuing' && t !== 'web');
  if (bad.length) throw new ConfigError(`Invalid environment:\n  HSM_TOKENS: ${bad.join(', ')} is not a token a running process may open (issuing, web; the root token only through npm run pki:ceremony)`);
  return list as Array<'issuing' | 'web'>;
}

const toEnvName = (keyPath: string[]) =>
  'ESEAL_' + keyPath.map((k) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');

/** Replaces every leaf of the YAML tree that has an ESEAL_* variable set. */
function applyEnvOverrides(node: unknown, env: NodeJS.ProcessEnv, keyPath: string[] = []): unknown {
  if (node && typeof node === 'object' && !Array.isArray(node)) {
    return Object.fromEntries(
      Object.entries(node as Record<string, unknown>).map(([k, v]) => [k, applyEnvOverrides(v, env, [...keyPath, k])]),
    );
  }
  const fromEnv = env[toEnvName(keyPath)];
  return fromEnv === undefined ? node : fromEnv;
}

function describeIssues(error: z.ZodError, prefix: string, envNames: (p: string[]) => string): string {
  return error.issues
    .map((i) => {
      const key = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
      return `  ${key} (${envNames(i.path.map(String))}): ${i.message}`;
    })
    .join('\n');
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, rootDir = path.resolve(__dirname, '..')): Config {
  const file = env.ESEAL_CONFIG_FILE ?? path.join(rootDir, 'temporal.yaml');
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`Cannot read configuration file ${file}: ${(e as Error).message}`);
  }
  const merged = applyEnvOverrides(raw, env) as Record<string, any>;
  if (env.TEMPORAL_ADDRESS) merged.temporal.address = env.TEMPORAL_ADDRESS;
  if (env.TEMPORAL_NAMESPACE) merged.temporal.namespace = env.TEMPORAL_NAMESPACE;
  const parsed = fileSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration in ${file}:\n${describeIssues(parsed.error, '', toEnvName)}`);
  }

  const runtimeNames: Record<keyof z.infer<typeof envSchema>, string> = {
    dataDir: 'DATA_DIR',
    webPort: 'WEB_PORT',
    databaseUrl: 'DATABASE_URL',
    databaseOwnerUrl: 'DATABASE_OWNER_URL',
    databaseAppUser: 'DATABASE_APP_USER',
    databaseAppPassword: 'DATABASE_APP_PASSWORD',
    postgresPort: 'POSTGRES_PORT',
    pkcs11Module: 'PKCS11_MODULE',
    tokens: 'HSM_TOKENS',
    temporalCli: 'TEMPORAL_CLI',
    demoData: 'DEMO_DATA',
  };
  const dataDir = path.resolve(rootDir, env.DATA_DIR ?? 'data');
  const pkcs11Module = env.PKCS11_MODULE || PROJECT_SOFTHSM_MODULE;
  const tokens = Object.fromEntries(heldTokens(env).map((role) => [role, tokenSettings(role, env, { dataDir, pkcs11Module })]));
  const runtime = envSchema.safeParse({
    dataDir,
    webPort: env.WEB_PORT ?? 3000,
    databaseUrl: env.DATABASE_URL || undefined,
    databaseOwnerUrl: env.DATABASE_OWNER_URL || undefined,
    // M5 P1: workers and web connect as this role (created by the owner at start-up).
    databaseAppUser: env.DATABASE_APP_USER ?? 'eseal_app',
    databaseAppPassword: env.DATABASE_APP_PASSWORD || undefined,
    postgresPort: env.POSTGRES_PORT ?? 5433,
    pkcs11Module,
    tokens,
    temporalCli: env.TEMPORAL_CLI || undefined,
    demoData: env.DEMO_DATA ?? false,
  });
  if (!runtime.success) {
    throw new ConfigError(
      `Invalid environment:\n${describeIssues(runtime.error, '', (p) => runtimeNames[p[0] as keyof typeof runtimeNames] ?? p.join('.'))}`,
    );
  }
  const r = runtime.data;
  return { ...parsed.data, runtime: r, rootDir };
}

/** The public base URL of the PKI routes: pki.publicBaseUrl, or this machine's web port. */
export type AlgorithmSuite = Config['pki']['algorithmSuite'];

/** Whether the configured suite includes SM2/SM3 (gm or both). */
export const suiteHasGm = (config: Pick<Config, 'pki'>) => config.pki.algorithmSuite !== 'intl';
/** Whether the configured suite includes ECDSA P-256/SHA-256 seal signatures (intl or both). */
export const suiteHasIntl = (config: Pick<Config, 'pki'>) => config.pki.algorithmSuite !== 'gm';

export const pkiBaseUrl = (config: Pick<Config, 'pki' | 'runtime'>) => config.pki.publicBaseUrl || `http://127.0.0.1:${config.runtime.webPort}`;

/** The web's address for links in messages: notify.publicBaseUrl, or this machine's web port. */
export const webBaseUrl = (config: Pick<Config, 'notify' | 'runtime'>) => config.notify.publicBaseUrl || `http://127.0.0.1:${config.runtime.webPort}`;
export type NotifyConfig = Config['notify'];
