import { loadConfig, ConfigError } from '../../infra/config';

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
});
