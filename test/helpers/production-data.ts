/** M2: production data as a maker records it (domain/production-data.ts); the platform adds serial and imprint hash. */
export const PRODUCTION_DATA = { produced_on: '2026-12-01', operator: '赵六', medium: 'HSM', device: 'SoftHSM2 令牌 eseal' } as const;
