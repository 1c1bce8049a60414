// @keystrata/core/adapter: the building blocks the ORM adapters and the CLI share (record
// encryption, segment policies, envelope and blind-index helpers, the key cache, the async mutex).
// Application code imports `@keystrata/core`; these may change in a minor release. Append new
// exports at the end.
export { SecretKey } from './secret/secret-key.js';
export { gcmOpen, gcmSeal, GCM } from './crypto/aes-gcm.js';
export { kwpUnwrap, kwpWrap } from './crypto/aes-kwp.js';
export { hkdfSha256 } from './crypto/hkdf.js';
export { decodeEnvelope, encodeEnvelope, encodeHeader, envelopeDekId, isEnvelope, ENVELOPE_PREFIX, ENVELOPE_VERSION, type Envelope } from './envelope/envelope-format.js';
export { buildAad } from './envelope/aad.js';
export { openEnvelope, openText, sealEnvelope, sealValue } from './envelope/seal.js';
export { decodeFieldValue, encodeFieldValue, type FieldValue } from './envelope/value-codec.js';
export { blindIndexEquals, blindIndexKey, blindIndexOf, blindIndexInfo, checkBlindIndexNames, BLIND_INDEX_PREFIX } from './blind-index/blind-index.js';
export { KeyCache, KeyClaim, PendingKey, type KeyCacheOptions, type KeyCacheStats } from './cache/key-cache.js';
export { CachedKey, KeyLeases } from './cache/key-leases.js';
export { SQL_SCHEMA } from './key-store/sql-schema.js';
export { RESERVED_SEGMENT_PREFIX } from './hierarchy/context-checks.js';
export { RecordEncryptor, type RecordEncryptorOptions, type RecordValues, type ModelSpec, type EncryptedFieldSpec } from './records/record-encryptor.js';
export { resolveSegment, assertSegmentPolicy, type SegmentPolicy } from './records/segment-policy.js';
export { UnreadableValue } from './records/unreadable-value.js';
export { AsyncMutex } from './key-store/async-mutex.js';
export { BOUND_DEK_PREFIX, isLegacyWrappedDek, type DekIdentity } from './key-wrap/dek-wrap.js';
export { refuseUnknownKeys } from './options/known-keys.js';
export { closestKey } from './options/closest-key.js';
export { editDistance, isNearMiss } from './options/near-miss.js';
export { KEY_CHANGE_PAGE } from './key-store/key-changes.js';
