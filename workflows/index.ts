// Bundle entry for the workers: every workflow type the platform runs.
export { signStatementWorkflow } from './sign-statement';
export { hsmHealthWorkflow } from './hsm-health';
export { applicationWorkflow } from './application';
export { sealWorkflow } from './seal';
export { changeRequestWorkflow } from './change-request';
export { passwordResetWorkflow } from './password-reset';
export { auditHeadSigningWorkflow } from './audit-head-signing';
export { videoRetentionWorkflow } from './retention-video';
export { archiveRetentionWorkflow } from './retention-archive';
export { correctionApprovalWorkflow } from './correction-approval';
export { crlIssuanceWorkflow } from './crl-issuance';
export { nationalSealWorkflow, sealSignatureWorkflow, timestampWorkflow } from './seal-signature';
export { messageDeliveryWorkflow } from './message-delivery';
export { registrationBatchWorkflow, registrationInboxWorkflow } from './registration-import';
export { trustListChangeWorkflow } from './trust-list-change';
export { foreignCrlRefreshWorkflow } from './foreign-crl-refresh';
export { useApprovalWorkflow } from './use-approval';
export { verificationReportWorkflow } from './verification-report';
