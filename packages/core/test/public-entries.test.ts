import { describe, expect, it } from 'vitest';
import * as adapterEntry from '../src/adapter.js';
import * as mainEntry from '../src/index.js';
import * as testingEntry from '../src/testing.js';

// Issue 13 §1: the public surface is split by audience. Application code imports `@keystrata/core`;
// adapters and the CLI import `@keystrata/core/adapter`; unit tests `@keystrata/core/testing`.
const TEST_DOUBLES = ['SoftwareRootKey', 'MemoryKeyStore'];
const ADAPTER_INTERNALS = [
  'RecordEncryptor',
  'resolveSegment',
  'assertSegmentPolicy',
  'AsyncMutex',
  'KeyCache',
  'KeyClaim',
  'PendingKey',
  'CachedKey',
  'KeyLeases',
  'SecretKey',
  'gcmSeal',
  'gcmOpen',
  'kwpWrap',
  'kwpUnwrap',
  'hkdfSha256',
  'sealValue',
  'sealEnvelope',
  'openEnvelope',
  'openText',
  'encodeEnvelope',
  'decodeEnvelope',
  'envelopeDekId',
  'isEnvelope',
  'encodeFieldValue',
  'decodeFieldValue',
  'blindIndexOf',
  'blindIndexKey',
  'SQL_SCHEMA',
  'RESERVED_SEGMENT_PREFIX',
];

describe('public entry points', () => {
  it('issue 13 §1: the main entry holds what applications use and nothing an application should not touch', () => {
    const names = Object.keys(mainEntry);
    expect(names).toEqual(expect.arrayContaining(['KeyHierarchy', 'Pkcs11RootKey', 'SqlKeyStore', 'createSqliteDriver', 'createPostgresDriver', 'KeystrataError', 'ERROR_CODES', 'UnreadableValue']));
    expect(names.filter((name) => TEST_DOUBLES.includes(name) || ADAPTER_INTERNALS.includes(name))).toEqual([]);
  });

  it('issue 13 §1: the adapter entry holds the record encryptor, segment policies, envelope helpers and the async mutex', () => {
    expect(Object.keys(adapterEntry)).toEqual(expect.arrayContaining(ADAPTER_INTERNALS));
    expect(Object.keys(adapterEntry).filter((name) => TEST_DOUBLES.includes(name))).toEqual([]);
  });

  it('issue 13 §1: the test doubles are only in the testing entry', () => {
    expect(Object.keys(testingEntry).sort()).toEqual([...TEST_DOUBLES].sort());
  });

  it('issue 13 §1: an UnreadableValue from the adapter entry is the one applications check for', () => {
    expect(adapterEntry.UnreadableValue).toBe(mainEntry.UnreadableValue);
  });
});
