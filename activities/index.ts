// Activities grouped by the task queue that runs them: database work on the main queue, HSM work
// only on workers that hold a PKCS#11 session. Dependencies are injected so tests use the real ones.
import type { Db } from '../infra/db';
import type { Hsm } from '../infra/hsm/hsm';
import { createApplicationDbActivities } from './applications';
import { createHsmStatus } from './hsm-status';
import { createSealDocumentActivities } from './seal-documents';
import { createSealDocumentSigningActivities } from './seal-document-signing';
import { createPasswordNoticeActivities, createPasswordResetActivities, createSealLifeDbActivities, createSealLifeHsmActivities } from './seal-life';
import { createSealProductionActivities, type SealCertificatePolicy } from './seal-production';
import type { PdfRenderer } from '../infra/documents/pdf-renderer';
import type { PlatformSigningKey } from '../infra/pki/platform';
import { createStatementSigning, createStatementStore } from './platform-statements';
import { createAuditHeadSigning } from './audit-heads';
import { createRetentionDbActivities } from './retention';
import { createCorrectionActivities } from './corrections';
import { createSealChangeDbActivities, createSealChangeHsmActivities } from './seal-changes';
import { createSealSigningHsmActivities, createSealUseRegisterActivities } from './seal-signing';
import { createNationalSealHsmActivities } from './national-seal';
import { createTimestampHsmActivities, type TimestampSettings } from './timestamps';
import { createMessageDeliveryActivities } from './message-delivery';
import { createCaseMessageActivities } from './case-messages';
import { loadConfig, type Config } from '../infra/config';
import { createRegistrationExchangeActivities } from './registration-exchange';
import { createTrustListActivities } from './trust-list';
import { createUseApprovalActivities } from './use-approval';
import { createVerificationReportDbActivities, createVerificationReportHsmActivities } from './verification-report';

/** `config`: where messages go (notify.*); loaded from temporal.yaml and the environment when not given. */
export function createDbActivities(deps: { db: Db; pdf: () => Promise<PdfRenderer>; config?: Pick<Config, 'notify' | 'runtime' | 'registration'> }) {
  return {
    ...createStatementStore(deps.db),
    ...createApplicationDbActivities(deps.db, deps.config?.registration),
    ...createSealDocumentActivities(deps.db, deps.pdf),
    ...createSealLifeDbActivities(deps.db),
    ...createPasswordNoticeActivities(deps.db),
    ...createPasswordResetActivities(deps.db),
    ...createRetentionDbActivities(deps.db),
    ...createCorrectionActivities(deps.db),
    ...createSealChangeDbActivities(deps.db),
    ...createSealUseRegisterActivities(deps.db),
    ...createMessageDeliveryActivities(deps.db, deps.config),
    ...createCaseMessageActivities(deps.db),
    ...createRegistrationExchangeActivities(deps.db, (deps.config ?? loadConfig()).runtime.dataDir),
    ...createTrustListActivities(deps.db),
    ...createUseApprovalActivities(deps.db),
    ...createVerificationReportDbActivities(deps.db, deps.pdf),
  };
}

/** `hsm`: the issuing token; `personalDataHsm`: the web token, whose KEK wraps the keys of personal data (M4, P1). */
export function createHsmActivities(deps: { hsm: Hsm; personalDataHsm: Hsm; db: Db; platformKey: PlatformSigningKey; policy: SealCertificatePolicy; crlNextUpdateHours?: number; tsa?: TimestampSettings }) {
  return {
    ...createStatementSigning(deps.hsm, deps.platformKey),
    ...createHsmStatus(deps.hsm, deps.platformKey),
    ...createSealProductionActivities(deps),
    ...createSealLifeHsmActivities({ ...deps, crlNextUpdateHours: deps.crlNextUpdateHours ?? 24 }),
    ...createAuditHeadSigning(deps.hsm, deps.db),
    ...createSealChangeHsmActivities({ db: deps.db, hsm: deps.personalDataHsm }),
    ...createSealSigningHsmActivities(deps),
    ...createNationalSealHsmActivities(deps),
    ...createTimestampHsmActivities(deps),
    ...createSealDocumentSigningActivities(deps),
    ...createVerificationReportHsmActivities(deps),
  };
}

export type DbActivities = ReturnType<typeof createDbActivities>;
export type HsmActivities = ReturnType<typeof createHsmActivities>;
export type ApplicationDbActivities = DbActivities;
export type ApplicationHsmActivities = HsmActivities;
