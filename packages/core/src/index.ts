// @keystrata/core: what application code uses. The record-level machinery the ORM adapters and the
// CLI share is in `@keystrata/core/adapter` (./adapter.ts); the test doubles are in
// `@keystrata/core/testing` (./testing.ts). Append new exports at the end.
export { KeystrataError, type KeystrataErrorOptions, type SafeCause } from './errors/keystrata-error.js';
export { ERROR_CODES, type ErrorCode } from './errors/error-codes.js';
export type { FieldContext } from './envelope/field-context.js';
export type { KeyCacheOptions, KeyCacheStats } from './cache/key-cache.js';
export type { RootKey, CmkReference, RootKeyStats, AuditKeyIdentity } from './root-key/root-key.js';
export { Pkcs11RootKey, type Pkcs11RootKeyOptions } from './root-key/pkcs11-root-key.js';
export type { PinSource } from './root-key/pin-source.js';
export { initialisePkcs11Token, type Pkcs11TokenInitOptions } from './root-key/pkcs11-token-init.js';
export type { KeyStore, DekQuery, DekCount } from './key-store/key-store.js';
export type { AuditEvent, AuditRecord, CmkRecord, DekChain, DekRecord, JobRecord, KekRecord, KeyState, TombstoneRecord, LeaseRecord } from './key-store/records.js';
export { SqlKeyStore } from './key-store/sql-key-store.js';
export { createSqliteDriver, type SqliteDriverOptions } from './key-store/sqlite-driver.js';
export { createPostgresDriver, type PostgresDriverOptions } from './key-store/postgres-driver.js';
export type { SqlDriver, SqlExecutor } from './key-store/sql-driver.js';
export { KeyHierarchy, type KeyHierarchyOptions, type EncryptItem, type DecryptItem, type DecryptResult, type OperationEvent } from './hierarchy/key-hierarchy.js';
export type { KeyReference, RevocationImpact, RevocationOptions } from './hierarchy/revocation.js';
export type { ReencryptionHook, ReencryptionRecord, ReencryptionUpdate } from './hierarchy/reencryption-hook.js';
export type { DekRotationOptions, DekRotationResult } from './hierarchy/dek-rotation.js';
export type { CmkRotationResult, KekRotationResult, ProvisionResult } from './hierarchy/provisioning.js';
export type { LegacyKeyCounts, RewrapFailure, RewrapResult } from './hierarchy/rewrap.js';
export type { HierarchyStatus, HierarchyStats, KeyringStatus, ShredStatus, TombstoneSummary } from './hierarchy/status.js';
export type { AuditVerification, AuditVerifyOptions } from './hierarchy/audit-log.js';
export type { Progress, ProgressListener } from './hierarchy/internals.js';
export type { BackupFile, RestoreResult } from './backup/backup.js';
export type { ShredEpochResult } from './shred/complete-shreds.js';
export type { LegacyKeys } from './hierarchy/key-resolver.js';
// Applications meet it in results read with `onUnreadable: 'placeholder'` (`UnreadableValue.isInstance`).
export { UnreadableValue } from './records/unreadable-value.js';
export type { SqliteDatabase, SqliteStatement } from './key-store/sqlite-driver.js';
export type { PostgresPool, PostgresPoolClient, PostgresQueryable } from './key-store/postgres-driver.js';
export type { KeyChange, KeyChangeEntry, KeyChangeHandlers, KeyChangePage, KeyChangeSubscription } from './key-store/key-changes.js';
export { RotationPolicies } from './policy/rotation-policies.js';
export { DEFAULT_DEK_USAGE_LIMIT, type RotationPolicy, type RotationPolicyChange } from './policy/rotation-policy.js';
export type { EnforcementResult } from './policy/enforce-policies.js';
export type { PolicyStatus } from './policy/policy-status.js';
export type { UsageStats } from './policy/usage-counter.js';
export type { PolicyRecord } from './key-store/records.js';
export type { RootMemberStats, RootMemberState, RootMemberEvent } from './root-key/root-key.js';
export { MemberRootKey } from './root-key/members/member-root-key.js';
export type { MemberKind, MemberRootKeyOptions, RootMemberOptions } from './root-key/members/member-options.js';
export { openPkcs11Members, type Pkcs11MemberOptions, type Pkcs11MembersOptions } from './root-key/members/member-open.js';
export { syncRootMember, removeRootMember, type RootMemberSyncOptions, type RootMemberSyncResult } from './root-key/members/member-sync.js';
export { encodeMemberCopies, decodeMemberCopies, type MemberCopy } from './root-key/members/member-copies.js';
export { reportRootMembers, type RootMemberReport } from './root-key/members/member-report.js';
// Issue 15 §2: DEK rotation spread over workers (`keystrata worker`, `rotate dek --workers`).
export { enqueueDekRotation, runRotationWorker, type RotationWorkerOptions, type RotationWorkerEvent, type RotationWorkerSummary } from './jobs/rotation-worker.js';
export { createPgBossRotationQueue, type PgBossRotationQueueOptions } from './jobs/pg-boss-rotation-queue.js';
export { createMemoryRotationQueue } from './jobs/memory-rotation-queue.js';
export { rotationQueueName, type RotationJobQueue, type RotationJob, type RotationProgress, type RotationRef, type TakenRotationJob } from './jobs/rotation-queue.js';
export type { DekRotationBatch, DekRotationPlan, DekRotationPlanOptions, DekBatchResult, DekRotationSteps } from './jobs/dek-rotation-batches.js';
export { createMongoRotationQueue, type MongoCollectionLike } from './jobs/mongo-rotation-queue.js';
