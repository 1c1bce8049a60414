import { execFileSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRfcKeyWrapVectors, loadWycheproof } from '@keystrata/testing';
import { describe, expect, it } from 'vitest';
import { auditDigest } from '../src/audit/audit-chain.js';
import { backupDigest } from '../src/backup/backup.js';
import { blindIndexEquals, blindIndexInfo, blindIndexKey, blindIndexOf } from '../src/blind-index/blind-index.js';
import { kwpWrap } from '../src/crypto/aes-kwp.js';
import { buildAad } from '../src/envelope/aad.js';
import { decodeEnvelope, encodeHeader } from '../src/envelope/envelope-format.js';
import { openEnvelope, openText, sealEnvelope, sealValue } from '../src/envelope/seal.js';
import { decodeFieldValue, encodeFieldValue, type FieldValue } from '../src/envelope/value-codec.js';
import { KeystrataError } from '../src/errors/keystrata-error.js';
import { dekWrapAad, unwrapDek, wrapDek, wrapDekWithIv, type DekIdentity } from '../src/key-wrap/dek-wrap.js';
import { lengthPrefixed } from '../src/key-wrap/identity-bytes.js';
import { kekBinding, kekBindingMatches } from '../src/key-wrap/kek-binding.js';
import type { AuditRecord } from '../src/key-store/records.js';
import { SecretKey } from '../src/secret/secret-key.js';

// Issue 13 §3: the stored formats are pinned by committed known-answer vectors (test/vectors/, made
// once by scripts/make-format-vectors.mjs). A change made symmetrically to the writing and the
// reading side passes every round-trip test; it fails here, because the committed bytes do not move.

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const vectorsDir = join(packageDir, 'test', 'vectors');
const readVectors = <T>(name: string): T => JSON.parse(readFileSync(join(vectorsDir, name), 'utf8')) as T;
const hex = (text: string): Buffer => Buffer.from(text, 'hex');

type ValueSpec =
  | { type: 'string'; value: string }
  | { type: 'number'; value: number | '-0' } // '-0' names -0, which JSON cannot carry
  | { type: 'boolean'; value: boolean }
  | { type: 'bigint'; value: string }
  | { type: 'date'; value: string }
  | { type: 'bytes'; value: string }
  | { type: 'json'; value: unknown };

interface Context {
  model: string;
  field: string;
  recordId?: string;
}
interface EnvelopeVector {
  name: string;
  dekHex: string;
  dekId: string;
  ivHex: string;
  context: Context;
  value: ValueSpec;
  flags: number;
  plaintextHex: string;
  aadHex: string;
  envelope: string;
}
interface BlindIndexVector {
  name: string;
  keyring: string;
  model: string;
  field: string;
  indexKeyHex: string;
  value: ValueSpec;
  infoHex: string;
  fieldKeyHex: string;
  index: string;
}
interface BoundDekVector {
  name: string;
  kekHex: string;
  dekHex: string;
  ivHex: string;
  identity: DekIdentity;
  aadHex: string;
  wrapped: string;
}
interface LegacyDekVector {
  name: string;
  kekHex: string;
  dekHex: string;
  wrappedBase64: string;
}
interface KekBindingVector {
  name: string;
  kekHex: string;
  keyring: string;
  version: number;
  inputHex: string;
  binding: string;
}
interface AuditVector {
  name: string;
  seq: number;
  prevMac: string;
  entry: Omit<AuditRecord, 'seq' | 'prevMac' | 'mac'>;
  preimageHex: string;
  digestHex: string;
}
interface BackupVector {
  name: string;
  payload: string;
  preimageHex: string;
  digestHex: string;
}

const envelopes = readVectors<{ vectors: EnvelopeVector[] }>('ks1-envelopes.json').vectors;
const blindIndexes = readVectors<{ vectors: BlindIndexVector[] }>('bi1-blind-indexes.json').vectors;
const wrappedKeys = readVectors<{ boundDeks: BoundDekVector[]; legacyDeks: LegacyDekVector[]; kekBindings: KekBindingVector[] }>('wrapped-keys.json');
const macInputs = readVectors<{ audit: AuditVector[]; backup: BackupVector[] }>('mac-inputs.json');

/** The value a vector names, as the application passes it. */
function fieldValue(spec: ValueSpec): FieldValue {
  switch (spec.type) {
    case 'bigint':
      return BigInt(spec.value);
    case 'date':
      return new Date(spec.value);
    case 'bytes':
      return hex(spec.value);
    case 'number':
      return Number(spec.value);
    case 'json':
      return spec.value as FieldValue;
    default:
      return spec.value;
  }
}

/** Asserts a decoded value is the vector's value with the vector's type (not only an equal-looking one). */
function expectValue(actual: FieldValue, spec: ValueSpec, name: string): void {
  switch (spec.type) {
    case 'bigint':
      expect(typeof actual, name).toBe('bigint');
      expect(actual, name).toBe(BigInt(spec.value));
      break;
    case 'date':
      expect(actual, name).toBeInstanceOf(Date);
      expect((actual as Date).toISOString(), name).toBe(spec.value);
      break;
    case 'bytes':
      expect(actual, name).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(actual as Uint8Array).toString('hex'), name).toBe(spec.value);
      break;
    case 'json':
      expect(typeof actual, name).toBe('object');
      expect(actual, name).toEqual(spec.value);
      break;
    case 'number':
      expect(typeof actual, name).toBe('number');
      expect(actual, name).toBe(Number(spec.value)); // Object.is: -0 is not 0
      break;
    default:
      expect(typeof actual, name).toBe(spec.type);
      expect(actual, name).toBe(spec.value);
  }
}

/** Flips the low bit of byte `index` in place; returns the buffer. */
function flipBit(bytes: Buffer, index: number): Buffer {
  bytes.writeUInt8(bytes.readUInt8(index) ^ 0x01, index);
  return bytes;
}

const codeOf = (action: () => unknown): string => {
  try {
    action();
    return 'none';
  } catch (error) {
    return KeystrataError.isInstance(error) ? error.code : `untyped: ${String(error)}`;
  }
};

describe('ks1 envelopes', () => {
  it('issue 13 §3: the ks1 vectors cover every value type, each with and without a record id (flag bit 0)', () => {
    expect(envelopes.length).toBeGreaterThanOrEqual(14);
    for (const type of ['string', 'number', 'boolean', 'bigint', 'date', 'bytes', 'json']) {
      for (const flags of [0, 1])
        expect(
          envelopes.some((v) => v.value.type === type && v.flags === flags),
          `${type} with flags ${flags}`,
        ).toBe(true);
    }
    const strings = envelopes.filter((v) => v.value.type === 'string').map((v) => v.value.value as string);
    expect(strings).toContain('');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the class is every non-ASCII character, on purpose
    expect(strings.some((s) => /[^\x00-\x7f]/.test(s))).toBe(true);
    const numbers = envelopes.filter((v) => v.value.type === 'number').map((v) => Number(v.value.value));
    expect(numbers.some((n) => n < 0)).toBe(true);
    expect(numbers.some((n) => Object.is(n, -0))).toBe(true);
    expect(numbers.some((n) => !Number.isInteger(n))).toBe(true);
    for (const v of envelopes) expect(v.flags, v.name).toBe(v.context.recordId ? 1 : 0);
    expect(new Set(envelopes.map((v) => v.name)).size).toBe(envelopes.length);
  });

  it('issue 13 §3: sealValue and sealEnvelope with the fixed IV produce exactly the committed ks1 text', () => {
    for (const v of envelopes) {
      const value = fieldValue(v.value);
      expect(sealValue(hex(v.dekHex), v.dekId, hex(v.ivHex), value, v.context), v.name).toBe(v.envelope);
      expect(sealEnvelope(hex(v.dekHex), v.dekId, hex(v.ivHex), encodeFieldValue(value), v.context), v.name).toBe(v.envelope);
    }
  });

  it('issue 13 §3: encodeFieldValue gives the committed plaintext bytes and buildAad the committed AAD bytes', () => {
    for (const v of envelopes) {
      expect(encodeFieldValue(fieldValue(v.value)).toString('hex'), v.name).toBe(v.plaintextHex);
      expect(buildAad(encodeHeader(v.dekId, v.flags), v.context).toString('hex'), v.name).toBe(v.aadHex);
      expect(buildAad(decodeEnvelope(v.envelope).header, v.context).toString('hex'), v.name).toBe(v.aadHex);
    }
  });

  it('issue 13 §3: openText and openEnvelope + decodeFieldValue give back each committed value with its type', () => {
    for (const v of envelopes) {
      const viaText = openText(hex(v.dekHex), v.envelope, v.context);
      expectValue(decodeFieldValue(viaText), v.value, v.name);
      viaText.fill(0);
      const parsed = decodeEnvelope(v.envelope);
      expect(parsed.dekId, v.name).toBe(v.dekId);
      expect(parsed.flags, v.name).toBe(v.flags);
      expect(parsed.iv.toString('hex'), v.name).toBe(v.ivHex);
      expectValue(decodeFieldValue(openEnvelope(hex(v.dekHex), parsed, v.context)), v.value, v.name);
    }
  });

  it('issue 13 §3: each committed ks1 envelope decrypts with plain AES-256-GCM over the committed AAD (independently of the Keystrata parser)', () => {
    for (const v of envelopes) {
      expect(v.envelope.startsWith('ks1.'), v.name).toBe(true);
      const body = Buffer.from(v.envelope.slice(4), 'base64url');
      expect(body[0], v.name).toBe(1);
      expect(body[1], v.name).toBe(v.flags);
      expect(body.subarray(2, 18).toString('hex'), v.name).toBe(v.dekId);
      expect(body.subarray(18, 30).toString('hex'), v.name).toBe(v.ivHex);
      expect(hex(v.aadHex).subarray(0, 18).equals(body.subarray(0, 18)), v.name).toBe(true);
      const decipher = createDecipheriv('aes-256-gcm', hex(v.dekHex), body.subarray(18, 30), { authTagLength: 16 });
      decipher.setAAD(hex(v.aadHex));
      decipher.setAuthTag(body.subarray(body.length - 16));
      const plaintext = Buffer.concat([decipher.update(body.subarray(30, body.length - 16)), decipher.final()]);
      expect(plaintext.toString('hex'), v.name).toBe(v.plaintextHex);
    }
  });

  it('issue 13 §3: a committed ks1 envelope with any one byte flipped, or opened under another context, fails to open', () => {
    for (const v of envelopes) {
      const body = Buffer.from(v.envelope.slice(4), 'base64url');
      for (let i = 0; i < body.length; i++) {
        const flipped = flipBit(Buffer.from(body), i);
        const code = codeOf(() => openText(hex(v.dekHex), `ks1.${flipped.toString('base64url')}`, v.context));
        expect(['CIPHERTEXT_TAMPERED', 'CIPHERTEXT_MALFORMED'], `${v.name}: byte ${i}`).toContain(code);
      }
      expect(
        codeOf(() => openText(hex(v.dekHex), v.envelope, { ...v.context, field: `${v.context.field}2` })),
        v.name,
      ).toBe('CIPHERTEXT_TAMPERED');
      expect(
        codeOf(() => openText(hex(v.dekHex), v.envelope, { ...v.context, model: `${v.context.model}2` })),
        v.name,
      ).toBe('CIPHERTEXT_TAMPERED');
      if (v.flags === 1)
        expect(
          codeOf(() => openText(hex(v.dekHex), v.envelope, { ...v.context, recordId: `${v.context.recordId}2` })),
          v.name,
        ).toBe('CIPHERTEXT_TAMPERED');
    }
  });
});

describe('bi1 blind indexes', () => {
  it('issue 13 §3: blindIndexInfo, blindIndexKey and blindIndexOf give the committed info bytes, field key and bi1 text', () => {
    expect(new Set(blindIndexes.map((v) => v.value.type))).toEqual(new Set(['string', 'number', 'boolean', 'bigint', 'date', 'bytes', 'json']));
    for (const v of blindIndexes) {
      expect(blindIndexInfo(v.keyring, v.model, v.field).toString('hex'), v.name).toBe(v.infoHex);
      const key = blindIndexKey(SecretKey.takeOwnership(hex(v.indexKeyHex)), v.keyring, v.model, v.field);
      expect(key.exposeSecretBytes().toString('hex'), v.name).toBe(v.fieldKeyHex);
      expect(blindIndexOf(key, fieldValue(v.value)), v.name).toBe(v.index);
      key.destroy();
    }
  });

  it('issue 13 §3: the committed bi1 vectors agree with plain HKDF-SHA256 and HMAC-SHA256 over the documented info and typed value bytes', () => {
    for (const v of blindIndexes) {
      const info = Buffer.from(['keystrata/blind-index/v1', v.keyring, v.model, v.field].join('\u0000'), 'utf8');
      expect(info.toString('hex'), v.name).toBe(v.infoHex);
      const fieldKey = Buffer.from(hkdfSync('sha256', hex(v.indexKeyHex), Buffer.alloc(0), info, 32));
      expect(fieldKey.toString('hex'), v.name).toBe(v.fieldKeyHex);
      const typed = envelopes.find((e) => JSON.stringify(e.value) === JSON.stringify(v.value))?.plaintextHex;
      const bytes = typed === undefined ? encodeFieldValue(fieldValue(v.value)) : hex(typed);
      expect(`bi1.${createHmac('sha256', fieldKey).update(bytes).digest('base64url')}`, v.name).toBe(v.index);
    }
  });

  it('issue 13 §3: a committed bi1 index matches its value only: another field, model, keyring or type gives another index', () => {
    const byName = new Map(blindIndexes.map((v) => [v.name, v.index]));
    const base = byName.get('email/default')!;
    for (const other of ['email/other-field-same-value', 'email/other-model-same-value', 'email/other-keyring-same-value']) {
      expect(blindIndexEquals(base, byName.get(other)!), other).toBe(false);
    }
    expect(blindIndexEquals(byName.get('number')!, byName.get('number-string-differs')!)).toBe(false);
    for (const v of blindIndexes) {
      const key = blindIndexKey(SecretKey.takeOwnership(hex(v.indexKeyHex)), v.keyring, v.model, v.field);
      expect(blindIndexEquals(blindIndexOf(key, fieldValue(v.value)), v.index), v.name).toBe(true);
      key.destroy();
    }
    expect(new Set(blindIndexes.map((v) => v.index)).size).toBe(blindIndexes.length);
  });
});

/** RFC 5649 key wrap with padding, written from the RFC over AES-ECB: independent of kwpWrap and of OpenSSL's wrap mode. */
function rfc5649Wrap(kek: Buffer, key: Buffer): Buffer {
  const encryptBlock = (block: Buffer): Buffer => {
    const cipher = createCipheriv(`aes-${kek.length * 8}-ecb`, kek, null);
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(block), cipher.final()]);
  };
  const alternativeIv = Buffer.alloc(8);
  alternativeIv.writeUInt32BE(0xa65959a6, 0);
  alternativeIv.writeUInt32BE(key.length, 4);
  const padded = Buffer.concat([key, Buffer.alloc((8 - (key.length % 8)) % 8)]);
  if (padded.length === 8) return encryptBlock(Buffer.concat([alternativeIv, padded]));
  const n = padded.length / 8;
  let a = alternativeIv;
  const r: Buffer[] = Array.from({ length: n }, (_, i) => padded.subarray(8 * i, 8 * i + 8));
  for (let j = 0; j <= 5; j++) {
    for (let i = 1; i <= n; i++) {
      const b = encryptBlock(Buffer.concat([a, r[i - 1]!]));
      a = Buffer.from(b.subarray(0, 8));
      a.writeBigUInt64BE(a.readBigUInt64BE(0) ^ BigInt(n * j + i), 0);
      r[i - 1] = b.subarray(8);
    }
  }
  return Buffer.concat([a, ...r]);
}

describe('wrapped keys', () => {
  const identityChanges = (identity: DekIdentity): Array<[string, DekIdentity]> => [
    ['id', { ...identity, id: identity.id.replace(/^./, (c) => (c === '0' ? '1' : '0')) }],
    ['keyring', { ...identity, keyring: `${identity.keyring}x` }],
    ['segment', { ...identity, segment: `${identity.segment}x` }],
    ['version', { ...identity, version: identity.version === 1 ? 2 : 1 }],
    ['kekVersion', { ...identity, kekVersion: identity.kekVersion + 1 }],
  ];

  it('issue 13 §3: wrapping a DEK with the fixed IV gives the committed k2 text, over the committed AAD', () => {
    expect(wrappedKeys.boundDeks.length).toBeGreaterThanOrEqual(1);
    for (const v of wrappedKeys.boundDeks) {
      expect(dekWrapAad(v.identity).toString('hex'), v.name).toBe(v.aadHex);
      expect(wrapDekWithIv(hex(v.kekHex), hex(v.dekHex), v.identity, hex(v.ivHex)), v.name).toBe(v.wrapped);
      // The documented layout, checked with plain AES-256-GCM.
      const body = Buffer.from(v.wrapped.slice(3), 'base64');
      expect(v.wrapped.startsWith('k2.'), v.name).toBe(true);
      expect(body.subarray(0, 12).toString('hex'), v.name).toBe(v.ivHex);
      const decipher = createDecipheriv('aes-256-gcm', hex(v.kekHex), body.subarray(0, 12), { authTagLength: 16 });
      decipher.setAAD(hex(v.aadHex));
      decipher.setAuthTag(body.subarray(44));
      expect(Buffer.concat([decipher.update(body.subarray(12, 44)), decipher.final()]).toString('hex'), v.name).toBe(v.dekHex);
    }
  });

  it('issue 13 §3: a committed k2 wrapped DEK unwraps to its DEK under its identity, and fails when any identity field changes', () => {
    for (const v of wrappedKeys.boundDeks) {
      const dek = unwrapDek(hex(v.kekHex), v.wrapped, v.identity, { legacy: 'refuse' });
      expect(dek.exposeSecretBytes().toString('hex'), v.name).toBe(v.dekHex);
      dek.destroy();
      for (const [field, changed] of identityChanges(v.identity)) {
        expect(
          codeOf(() => unwrapDek(hex(v.kekHex), v.wrapped, changed, { legacy: 'accept' })),
          `${v.name}: ${field}`,
        ).toBe('KEYSTORE_TAMPERED');
      }
      const otherKek = flipBit(hex(v.kekHex), 0);
      expect(
        codeOf(() => unwrapDek(otherKek, v.wrapped, v.identity, { legacy: 'accept' })),
        v.name,
      ).toBe('KEYSTORE_TAMPERED');
    }
  });

  it('issue 13 §3: wrapDek (random IV) writes the layout the k2 vectors pin', () => {
    const v = wrappedKeys.boundDeks[0]!;
    const wrapped = wrapDek(hex(v.kekHex), hex(v.dekHex), v.identity);
    expect(wrapped).toMatch(/^k2\.[A-Za-z0-9+/]{80}$/);
    expect(wrapped).not.toBe(v.wrapped);
    const dek = unwrapDek(hex(v.kekHex), wrapped, v.identity, { legacy: 'refuse' });
    expect(dek.exposeSecretBytes().toString('hex')).toBe(v.dekHex);
  });

  it('Precondition: the IV of a bound wrapped DEK is 12 bytes.', () => {
    const v = wrappedKeys.boundDeks[0]!;
    expect(codeOf(() => wrapDekWithIv(hex(v.kekHex), hex(v.dekHex), v.identity, Buffer.alloc(16)))).toBe('CONFIG_INVALID');
    expect(codeOf(() => wrapDekWithIv(hex(v.kekHex), hex(v.dekHex), v.identity, hex(v.ivHex)))).toBe('none');
  });

  it('issue 13 §3: kwpWrap gives the committed legacy RFC 5649 blob, which unwrapDek opens with legacy accepted and refuses with legacy refused', () => {
    const identity: DekIdentity = { id: '00112233445566778899aabbccddeeff', keyring: 'default', segment: 'default', version: 1, kekVersion: 1 };
    for (const v of wrappedKeys.legacyDeks) {
      expect(kwpWrap(hex(v.kekHex), hex(v.dekHex)).toString('base64'), v.name).toBe(v.wrappedBase64);
      const dek = unwrapDek(hex(v.kekHex), v.wrappedBase64, identity, { legacy: 'accept' });
      expect(dek.exposeSecretBytes().toString('hex'), v.name).toBe(v.dekHex);
      dek.destroy();
      expect(
        codeOf(() => unwrapDek(hex(v.kekHex), v.wrappedBase64, identity, { legacy: 'refuse' })),
        v.name,
      ).toBe('KEYSTORE_TAMPERED');
      const blob = Buffer.from(v.wrappedBase64, 'base64');
      flipBit(blob, blob.length - 1);
      expect(
        codeOf(() => unwrapDek(hex(v.kekHex), blob.toString('base64'), identity, { legacy: 'accept' })),
        v.name,
      ).toBe('KEYSTORE_TAMPERED');
    }
  });

  it('issue 13 §3: the legacy RFC 5649 vectors agree with an independent RFC 5649 implementation that reproduces the vendored RFC 5649 and Wycheproof vectors', () => {
    const rfc = loadRfcKeyWrapVectors().filter((v) => v.alg === 'kwp');
    expect(rfc.length).toBeGreaterThanOrEqual(2);
    for (const v of rfc) expect(rfc5649Wrap(hex(v.kek), hex(v.keyData)).toString('hex'), v.name).toBe(v.wrapped);
    const wycheproof = loadWycheproof('aes_kwp_test.json')
      .filter((g) => g.keySize === 256)
      .flatMap((g) => g.tests)
      .filter((t) => t.result === 'valid');
    expect(wycheproof.length).toBeGreaterThan(10);
    for (const t of wycheproof) expect(rfc5649Wrap(hex(String(t.key)), hex(String(t.msg))).toString('hex'), `tcId ${t.tcId}`).toBe(t.ct);
    for (const v of wrappedKeys.legacyDeks) expect(rfc5649Wrap(hex(v.kekHex), hex(v.dekHex)).toString('base64'), v.name).toBe(v.wrappedBase64);
    const fromWycheproof = wrappedKeys.legacyDeks.find((v) => v.name.includes('wycheproof'));
    const tcId = Number(/tcId-(\d+)$/.exec(fromWycheproof?.name ?? '')?.[1]);
    const source = wycheproof.find((t) => t.tcId === tcId);
    expect(source, 'the Wycheproof case a legacy vector names').toBeDefined();
    expect(hex(String(source!.ct)).toString('base64')).toBe(fromWycheproof!.wrappedBase64);
  });

  it('issue 13 §3: kekBinding gives the committed b1 text over the committed input bytes; another keyring, version or KEK does not match', () => {
    for (const v of wrappedKeys.kekBindings) {
      expect(lengthPrefixed('keystrata/kek-binding/v1', v.keyring, v.version).toString('hex'), v.name).toBe(v.inputHex);
      expect(kekBinding(hex(v.kekHex), v.keyring, v.version), v.name).toBe(v.binding);
      expect(`b1.${createHmac('sha256', hex(v.kekHex)).update(hex(v.inputHex)).digest('base64')}`, v.name).toBe(v.binding);
      expect(kekBindingMatches(hex(v.kekHex), v.keyring, v.version, v.binding), v.name).toBe(true);
      expect(kekBindingMatches(hex(v.kekHex), `${v.keyring}x`, v.version, v.binding), v.name).toBe(false);
      expect(kekBindingMatches(hex(v.kekHex), v.keyring, v.version + 1, v.binding), v.name).toBe(false);
      const otherKek = flipBit(hex(v.kekHex), 31);
      expect(kekBindingMatches(otherKek, v.keyring, v.version, v.binding), v.name).toBe(false);
    }
  });
});

describe('MAC inputs', () => {
  it('issue 13 §3: auditDigest gives the committed SHA-256 of the committed preimage for each fixed audit record, and any changed field changes it', () => {
    expect(macInputs.audit.length).toBeGreaterThanOrEqual(2);
    for (const v of macInputs.audit) {
      expect(auditDigest(v.seq, v.prevMac, v.entry).toString('hex'), v.name).toBe(v.digestHex);
      expect(createHash('sha256').update(hex(v.preimageHex)).digest('hex'), v.name).toBe(v.digestHex);
      expect(auditDigest(v.seq + 1, v.prevMac, v.entry).toString('hex'), v.name).not.toBe(v.digestHex);
      expect(auditDigest(v.seq, `${v.prevMac}A`, v.entry).toString('hex'), v.name).not.toBe(v.digestHex);
      for (const field of ['at', 'event', 'subject', 'actor', 'details'] as const) {
        expect(auditDigest(v.seq, v.prevMac, { ...v.entry, [field]: `${v.entry[field]}x` }).toString('hex'), `${v.name}: ${field}`).not.toBe(v.digestHex);
      }
    }
  });

  it('issue 13 §3: the backup MAC input digest is the committed SHA-256 of the committed preimage for each fixed payload', () => {
    expect(macInputs.backup.length).toBeGreaterThanOrEqual(1);
    for (const v of macInputs.backup) {
      expect(backupDigest(v.payload).toString('hex'), v.name).toBe(v.digestHex);
      expect(createHash('sha256').update(hex(v.preimageHex)).digest('hex'), v.name).toBe(v.digestHex);
      expect(hex(v.preimageHex).toString('utf8'), v.name).toBe(`keystrata-backup-v1\u0000${v.payload}`);
      expect(backupDigest(`${v.payload} `).toString('hex'), v.name).not.toBe(v.digestHex);
    }
  });
});

describe('the vector files', () => {
  const files = readdirSync(vectorsDir)
    .filter((name) => name.endsWith('.json'))
    .sort();

  it('issue 13 §3: the generator script reproduces every committed vector file byte for byte (all inputs fixed, nothing random)', () => {
    const output = execFileSync(process.execPath, [join(packageDir, 'scripts', 'make-format-vectors.mjs'), '--check'], { encoding: 'utf8' });
    for (const name of files) expect(output, name).toContain(`${name}: reproduced exactly`);
  });

  it('issue 13 §3: the README names each vector file, the generator, and the add-never-edit rule', () => {
    const readme = readFileSync(join(vectorsDir, 'README.md'), 'utf8');
    expect(files).toEqual(['bi1-blind-indexes.json', 'ks1-envelopes.json', 'mac-inputs.json', 'wrapped-keks.json', 'wrapped-keys.json']); // wrapped-keks.json: issue 14
    for (const name of files) expect(readme, name).toContain(`\`${name}\``);
    expect(readme).toContain('scripts/make-format-vectors.mjs');
    expect(readme).toMatch(/never edit/i);
  });

  it('issue 13 §3: every vector entry ever committed is still there, unchanged (git history: vector files only grow)', () => {
    const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: vectorsDir, encoding: 'utf8' }).trim();
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const dir = relative(root, vectorsDir);
    // Each entry as it was first committed, keyed by file, list and position (oldest commit first).
    const firstCommitted = new Map<string, { commit: string; json: string }>();
    const commits = git('log', '--reverse', '--format=%H', '--', `${dir}/*.json`).split('\n').filter(Boolean).slice(0, 500);
    expect(commits.length, 'the vector files are committed').toBeGreaterThan(0);
    for (const commit of commits) {
      for (const path of git('ls-tree', '-r', '--name-only', commit, '--', `${dir}/`)
        .split('\n')
        .filter((p) => p.endsWith('.json'))) {
        const content = JSON.parse(git('show', `${commit}:${path}`)) as Record<string, unknown>;
        for (const [list, entries] of Object.entries(content)) {
          if (!Array.isArray(entries)) continue;
          entries.forEach((entry, i) => {
            const key = `${path.slice(dir.length + 1)} ${list}[${i}]`;
            if (!firstCommitted.has(key)) firstCommitted.set(key, { commit, json: JSON.stringify(entry) });
          });
        }
      }
    }
    // What this run reads (the working tree) still holds each of them: a later commit, or an
    // uncommitted edit, that changed or dropped one fails here; a mistake reverted since passes.
    for (const [key, { commit, json }] of firstCommitted) {
      const [name, position] = key.split(' ') as [string, string];
      const [, list, index] = /^(\w+)\[(\d+)\]$/.exec(position)!;
      expect(files, `${name} (committed in ${commit}) was removed`).toContain(name);
      const now = readVectors<Record<string, unknown[] | undefined>>(name)[list!]?.[Number(index)];
      expect(JSON.stringify(now), `${key}, first committed in ${commit}, was edited or removed`).toBe(json);
    }
  });
});
