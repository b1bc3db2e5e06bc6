import { loadConfig, ConfigError, suiteHasGm, suiteHasIntl } from '../../infra/config';
import { heldToken, rootTokenSettings } from '../../infra/hsm/tokens';

const base = { DATA_DIR: 'data-unit' } as NodeJS.ProcessEnv;

describe('configuration (temporal.yaml + environment)', () => {
  test('the regulation durations and task queues come from temporal.yaml', () => {
    const c = loadConfig(base);
    expect(c.durations).toMatchObject({ filingDeadline: 'PT24H', unclaimedCancellation: 'P3M', videoRetention: 'P90D', archiveRetention: 'P5Y', calendarTimeZone: 'Asia/Shanghai' });
    expect(c.temporal.taskQueues.main).not.toBe(c.temporal.taskQueues.hsm);
    expect(c.temporal.searchAttributes.CaseStatus).toBe('Keyword');
  });

  test('environment variables override any key', () => {
    const c = loadConfig({ ...base, ESEAL_DURATIONS_FILING_DEADLINE: 'PT12H', TEMPORAL_ADDRESS: 'temporal.example:7233', ESEAL_TEMPORAL_TLS_ENABLED: 'true' });
    expect(c.durations.filingDeadline).toBe('PT12H');
    expect(c.temporal.address).toBe('temporal.example:7233');
    expect(c.temporal.tls.enabled).toBe(true);
  });

  test.each([
    ['ESEAL_DURATIONS_FILING_DEADLINE', '24 hours', 'durations.filingDeadline'],
    ['ESEAL_TEMPORAL_DEV_SERVER_PORT', '99999', 'temporal.devServer.port'],
    ['ESEAL_DURATIONS_CALENDAR_TIME_ZONE', 'Europe/Paris', 'durations.calendarTimeZone'],
    ['WEB_PORT', 'eighty', 'WEB_PORT'],
  ])('an invalid %s stops start-up naming the key', (name, value, key) => {
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, [name]: value })).toThrow(key);
  });

  test('a missing configuration file is named', () => {
    expect(() => loadConfig({ ...base, ESEAL_CONFIG_FILE: '/nonexistent/temporal.yaml' })).toThrow('/nonexistent/temporal.yaml');
  });

  describe('M4: the demo HSM PIN only for the SoftHSM token the project creates', () => {
    test('the project token (default module and label, its own SoftHSM config) starts with the demo PIN', () => {
      expect(loadConfig(base).runtime.tokens.issuing?.pin).toBe('20190419');
      const own = `${loadConfig(base).runtime.dataDir}/hsm/softhsm2.conf`;
      expect(loadConfig({ ...base, SOFTHSM2_CONF: own }).runtime.tokens.issuing?.pin).toBe('20190419');
    });

    test.each([
      ['PKCS11_MODULE', '/opt/nethsm/libpkcs11.so'],
      ['HSM_TOKEN_LABEL', 'production'],
      ['SOFTHSM2_CONF', '/etc/softhsm/softhsm2.conf'],
    ])('another %s without HSM_PIN stops start-up naming HSM_PIN', (name, value) => {
      expect(() => loadConfig({ ...base, [name]: value })).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, [name]: value })).toThrow(new RegExp(`HSM_PIN: required with ${name}=`));
    });

    test('with HSM_PIN any module or token starts, with that PIN', () => {
      const c = loadConfig({ ...base, PKCS11_MODULE: '/opt/nethsm/libpkcs11.so', HSM_TOKEN_LABEL: 'production', HSM_PIN: 'a-real-pin-1', HSM_WEB_PIN: 'a-real-pin-2' });
      expect(c.runtime).toMatchObject({ pkcs11Module: '/opt/nethsm/libpkcs11.so', tokens: { issuing: { label: 'production', pin: 'a-real-pin-1' }, web: { label: 'web-eseal', pin: 'a-real-pin-2' } } });
    });
  });

  describe('M4: one token per role, each with its own PIN; a process holds only its own tokens', () => {
    test('the project creates three tokens with three demo PINs; the root token is in no running process configuration', () => {
      const { tokens } = loadConfig(base).runtime;
      expect(Object.keys(tokens).sort()).toEqual(['issuing', 'web']);
      expect(new Set([tokens.issuing?.pin, tokens.web?.pin, rootTokenSettings({ runtime: loadConfig(base).runtime }, base).pin]).size).toBe(3);
      expect(() => loadConfig({ ...base, HSM_TOKENS: 'web,root' })).toThrow(/HSM_TOKENS: root is not a token a running process may open/);
    });

    test('the web (HSM_TOKENS=web) holds the web token only: no issuing PIN even when one is set, and it needs none', () => {
      const c = loadConfig({ ...base, HSM_TOKENS: 'web', HSM_PIN: 'issuing-secret', HSM_ROOT_PIN: 'root-secret', HSM_WEB_PIN: 'web-pin-1' });
      expect(c.runtime.tokens).toEqual({ web: { label: 'web-eseal', pin: 'web-pin-1', soPin: expect.any(String) } });
      expect(JSON.stringify(c)).not.toMatch(/issuing-secret|root-secret/);
      expect(() => heldToken(c, 'issuing')).toThrow(/holds no settings of the issuing token/);
      // Another module: the web needs its own PIN only.
      expect(loadConfig({ ...base, HSM_TOKENS: 'web', PKCS11_MODULE: '/opt/nethsm/libpkcs11.so', HSM_WEB_PIN: 'web-pin-1' }).runtime.tokens.web?.pin).toBe('web-pin-1');
    });

    test('another module with the issuing PIN but not the web PIN stops start-up naming HSM_WEB_PIN', () => {
      expect(() => loadConfig({ ...base, PKCS11_MODULE: '/opt/nethsm/libpkcs11.so', HSM_PIN: 'a-real-pin-1' })).toThrow(/HSM_WEB_PIN: required with PKCS11_MODULE=/);
      expect(() => rootTokenSettings({ runtime: loadConfig({ ...base, HSM_TOKENS: '', PKCS11_MODULE: '/opt/nethsm/libpkcs11.so' }).runtime }, { ...base, PKCS11_MODULE: '/opt/nethsm/libpkcs11.so' })).toThrow(/HSM_ROOT_PIN: required/);
    });
  });

  describe('certificates: PKI base URL and policy from configuration', () => {
    test('defaults (temporal.yaml) and environment overrides', () => {
      expect(loadConfig(base).pki).toMatchObject({ publicBaseUrl: '', sealCertificatePolicyOid: '2.16.156.339.1.1.1' });
      const c = loadConfig({ ...base, ESEAL_PKI_PUBLIC_BASE_URL: 'https://pki.eseal.example', ESEAL_PKI_SEAL_CERTIFICATE_POLICY_OID: '1.2.156.112562.1' });
      expect(c.pki).toMatchObject({ publicBaseUrl: 'https://pki.eseal.example', sealCertificatePolicyOid: '1.2.156.112562.1' });
    });

    test('issue 13: the algorithm suite is both by default (demo and tests) and chosen by ESEAL_PKI_ALGORITHM_SUITE', () => {
      expect(loadConfig(base).pki.algorithmSuite).toBe('both');
      for (const suite of ['intl', 'gm', 'both'] as const) {
        const c = loadConfig({ ...base, ESEAL_PKI_ALGORITHM_SUITE: suite });
        expect(c.pki.algorithmSuite).toBe(suite);
        expect([suiteHasGm(c), suiteHasIntl(c)]).toEqual([suite !== 'intl', suite !== 'gm']);
      }
    });

    test.each([
      ['ESEAL_PKI_PUBLIC_BASE_URL', 'https://pki.example/', 'pki.publicBaseUrl'],
      ['ESEAL_PKI_PUBLIC_BASE_URL', 'ftp://pki.example', 'pki.publicBaseUrl'],
      ['ESEAL_PKI_SEAL_CERTIFICATE_POLICY_OID', '1.2.x', 'pki.sealCertificatePolicyOid'],
      ['ESEAL_PKI_ALGORITHM_SUITE', 'sm9', 'pki.algorithmSuite'],
    ])('an invalid %s=%s stops start-up naming %s', (name, value, key) => {
      expect(() => loadConfig({ ...base, [name]: value })).toThrow(key);
    });
  });
});
