#!/usr/bin/env node
// Generates the stored-format known-answer vectors in packages/core/test/vectors/ (issue 13 §3).
//
//   node scripts/make-format-vectors.mjs          write new files / append new entries (never edits old ones)
//   node scripts/make-format-vectors.mjs --check  exit 1 unless every committed file is reproduced byte for byte
//
// Reads the built package (dist/, run `pnpm --filter @keystrata/core build` first). Nothing is random:
// every key, IV, id and value below is fixed, so a run reproduces the committed files exactly.
// A format change ADDS entries (or a new file) here; an entry already committed is never edited:
// this script refuses to rewrite one, and the tests compare the committed bytes.
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
const outDir = join(here, '..', 'test', 'vectors');
const vendoredDir = join(here, '..', '..', 'testing', 'vectors');
const load = (path) => import(join(dist, path));

const { sealValue } = await load('envelope/seal.js');
const { buildAad, flagsFor } = await load('envelope/aad.js');
const { encodeHeader } = await load('envelope/envelope-format.js');
const { encodeFieldValue } = await load('envelope/value-codec.js');
const { blindIndexInfo, blindIndexKey, blindIndexOf } = await load('blind-index/blind-index.js');
const { SecretKey } = await load('secret/secret-key.js');
const { dekWrapAad, wrapDekWithIv } = await load('key-wrap/dek-wrap.js');
const { kwpWrap } = await load('crypto/aes-kwp.js');
const { kekBinding } = await load('key-wrap/kek-binding.js');
const { lengthPrefixed } = await load('key-wrap/identity-bytes.js');
const { auditDigest } = await load('audit/audit-chain.js');
const { backupDigest } = await load('backup/backup.js');
const { encodeWrappedKek, CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_PAD } = await load('root-key/wrapped-kek-format.js');
const { encodeMemberCopies } = await load('root-key/members/member-copies.js');

const GENERATED_BY = 'packages/core/scripts/make-format-vectors.mjs';

/** Fixed bytes named by a label (SHA-256 of the label, truncated): readable, reproducible inputs. */
const fixed = (label, length) => createHash('sha256').update(`keystrata-format-vectors/${label}`).digest().subarray(0, length);
const fixedHex = (label, length) => fixed(label, length).toString('hex');

// ---------------------------------------------------------------------------------------------
// Values, as the vector files spell them (JSON cannot hold bigint, Date or bytes).

/** The value a vector names, as a FieldValue. */
function fieldValue(spec) {
  switch (spec.type) {
    case 'bigint':
      return BigInt(spec.value);
    case 'date':
      return new Date(spec.value);
    case 'bytes':
      return Buffer.from(spec.value, 'hex');
    case 'number':
      return Number(spec.value); // '-0' names -0, which JSON cannot carry
    default:
      return spec.value;
  }
}

const VALUES = [
  ['string-ascii', { type: 'string', value: '123-45-6789' }],
  ['string-empty', { type: 'string', value: '' }],
  ['string-latin1', { type: 'string', value: 'Zoë Ångström-Müller' }],
  ['string-cjk', { type: 'string', value: '東京都千代田区' }],
  ['string-astral', { type: 'string', value: 'pass 🔑 word 😀' }],
  ['string-nul', { type: 'string', value: 'a\u0000b' }],
  ['number-integer', { type: 'number', value: 42 }],
  ['number-zero', { type: 'number', value: 0 }],
  ['number-negative', { type: 'number', value: -17 }],
  // biome-ignore lint/suspicious/noApproximativeNumericConstant: a fixed test value recorded in the vectors, not pi
  ['number-float', { type: 'number', value: 3.14159 }],
  ['number-negative-float', { type: 'number', value: -0.000123 }],
  ['number-large', { type: 'number', value: 1e21 }],
  ['boolean-true', { type: 'boolean', value: true }],
  ['boolean-false', { type: 'boolean', value: false }],
  ['bigint-positive', { type: 'bigint', value: '123456789012345678901234567890' }],
  ['bigint-negative', { type: 'bigint', value: '-9007199254740993' }],
  ['date', { type: 'date', value: '2026-12-04T14:50:17.123Z' }],
  ['date-pre-epoch', { type: 'date', value: '1969-07-20T20:17:40.000Z' }],
  ['bytes', { type: 'bytes', value: '00ff10802a' }],
  ['bytes-empty', { type: 'bytes', value: '' }],
  ['json-object', { type: 'json', value: { street: 'Hauptstraße 1', zip: '10115', floors: [1, 2], verified: true } }],
  ['json-array', { type: 'json', value: ['a', 1, null, { b: 'ç' }] }],
  ['json-empty-object', { type: 'json', value: {} }],
];

// ---------------------------------------------------------------------------------------------
// 1. ks1 envelopes

function envelopeVector(name, index, valueSpec, context) {
  const dek = fixed(`ks1/dek/${index % 3}`, 32);
  const dekId = fixedHex(`ks1/dek-id/${index % 3}`, 16);
  const iv = fixed(`ks1/iv/${name}`, 12);
  const value = fieldValue(valueSpec);
  const flags = flagsFor(context);
  return {
    name,
    dekHex: dek.toString('hex'),
    dekId,
    ivHex: iv.toString('hex'),
    context,
    value: valueSpec,
    flags,
    plaintextHex: encodeFieldValue(value).toString('hex'),
    aadHex: buildAad(encodeHeader(dekId, flags), context).toString('hex'),
    envelope: sealValue(dek, dekId, iv, value, context),
  };
}

function envelopeVectors() {
  const out = [];
  const unbound = { model: 'Patient', field: 'ssn' };
  const bound = { model: 'Patient', field: 'ssn', recordId: 'p_0001' };
  for (const [label, spec] of VALUES) {
    out.push(envelopeVector(`${label}/no-record-id`, out.length, spec, unbound));
    out.push(envelopeVector(`${label}/record-id`, out.length, spec, bound));
  }
  out.push(envelopeVector('string-ascii/empty-record-id-is-unbound', out.length, VALUES[0][1], { model: 'Patient', field: 'ssn', recordId: '' }));
  out.push(envelopeVector('string-latin1/non-ascii-context', out.length, VALUES[2][1], { model: 'Büro', field: 'adresse.straße', recordId: 'kunde-ü/7' }));
  out.push(envelopeVector('json-object/nested-field-path', out.length, VALUES[20][1], { model: 'Customer', field: 'address.home', recordId: '018f2d4e-5b7a-7c3d-9e1f-2a3b4c5d6e7f' }));
  // Issue 16 review: -0 is written "n-0" and reads back as -0 (appended, so no older vector moves).
  const negativeZero = { type: 'number', value: '-0' };
  out.push(envelopeVector('number-negative-zero/no-record-id', out.length, negativeZero, unbound));
  out.push(envelopeVector('number-negative-zero/record-id', out.length, negativeZero, bound));
  return {
    format: 'ks1',
    description:
      'Field envelopes: ks1. + base64url(version 1 ‖ flags ‖ DEK id ‖ IV ‖ AES-256-GCM ciphertext ‖ tag); AAD = header ‖ lp(model) ‖ lp(field) ‖ lp(recordId if flag bit 0). See docs/format.md.',
    generatedBy: GENERATED_BY,
    vectors: out,
  };
}

// ---------------------------------------------------------------------------------------------
// 2. bi1 blind indexes

function blindIndexVectors() {
  const cases = [
    ['email/default', 'default', 'Patient', 'email', { type: 'string', value: 'ada@example.com' }],
    ['email/other-field-same-value', 'default', 'Patient', 'contactEmail', { type: 'string', value: 'ada@example.com' }],
    ['email/other-model-same-value', 'default', 'Doctor', 'email', { type: 'string', value: 'ada@example.com' }],
    ['email/other-keyring-same-value', 'tenant-b', 'Patient', 'email', { type: 'string', value: 'ada@example.com' }],
    ['string-empty', 'default', 'Patient', 'nickname', { type: 'string', value: '' }],
    ['string-non-ascii-names', 'mandant-ä', 'Büro', 'straße', { type: 'string', value: 'Hauptstraße 1' }],
    ['number', 'default', 'Patient', 'age', { type: 'number', value: 42 }],
    ['number-string-differs', 'default', 'Patient', 'age', { type: 'string', value: '42' }],
    ['boolean', 'default', 'Patient', 'consented', { type: 'boolean', value: true }],
    ['bigint', 'default', 'Account', 'number', { type: 'bigint', value: '-9007199254740993' }],
    ['date', 'default', 'Patient', 'birthDate', { type: 'date', value: '1990-02-28T00:00:00.000Z' }],
    ['bytes', 'default', 'Device', 'serial', { type: 'bytes', value: '00ff10802a' }],
    ['json', 'default', 'Patient', 'tags', { type: 'json', value: ['vip', 'allergy'] }],
  ];
  const vectors = cases.map(([name, keyring, model, field, valueSpec]) => {
    const root = fixed(`bi1/index-key/${keyring}`, 32);
    const key = blindIndexKey(SecretKey.takeOwnership(Buffer.from(root)), keyring, model, field);
    return {
      name,
      keyring,
      model,
      field,
      indexKeyHex: root.toString('hex'),
      value: valueSpec,
      infoHex: blindIndexInfo(keyring, model, field).toString('hex'),
      fieldKeyHex: key.exposeSecretBytes().toString('hex'),
      index: blindIndexOf(key, fieldValue(valueSpec)),
    };
  });
  return {
    format: 'bi1',
    description:
      "Blind indexes: field key = HKDF-SHA256(keyring's blind-index key, salt empty, info 'keystrata/blind-index/v1' ‖ 0 ‖ keyring ‖ 0 ‖ model ‖ 0 ‖ field, 32 bytes); index = bi1. + base64url(HMAC-SHA256(field key, typed value bytes)).",
    generatedBy: GENERATED_BY,
    vectors,
  };
}

// ---------------------------------------------------------------------------------------------
// 3. Wrapped keys

/** The first valid Wycheproof AES-KWP case with a 256-bit KEK and a 32-byte key (the shape of a DEK). */
function wycheproofDekCase() {
  const file = JSON.parse(readFileSync(join(vendoredDir, 'aes_kwp_test.json'), 'utf8'));
  for (const group of file.testGroups) {
    if (group.keySize !== 256) continue;
    const found = group.tests.find((t) => t.result === 'valid' && t.msg.length === 64);
    if (found) return found;
  }
  throw new Error('no 256-bit, 32-byte valid case in aes_kwp_test.json');
}

function wrappedKeyVectors() {
  const identities = [
    { id: fixedHex('k2/dek-id/0', 16), keyring: 'default', segment: 'default', version: 1, kekVersion: 1 },
    { id: fixedHex('k2/dek-id/1', 16), keyring: 'default', segment: 'tenant:acme', version: 3, kekVersion: 2 },
    { id: fixedHex('k2/dek-id/2', 16), keyring: 'mandant-ä', segment: 'région:île', version: 4294967295, kekVersion: 65536 },
  ];
  const boundDeks = identities.map((identity, i) => {
    const kek = fixed(`k2/kek/${i}`, 32);
    const dek = fixed(`k2/dek/${i}`, 32);
    const iv = fixed(`k2/iv/${i}`, 12);
    return {
      name: `k2/${i}`,
      kekHex: kek.toString('hex'),
      dekHex: dek.toString('hex'),
      ivHex: iv.toString('hex'),
      identity,
      aadHex: dekWrapAad(identity).toString('hex'),
      wrapped: wrapDekWithIv(kek, dek, identity, iv),
    };
  });
  const legacyDeks = [0, 1].map((i) => {
    const kek = fixed(`legacy/kek/${i}`, 32);
    const dek = fixed(`legacy/dek/${i}`, 32);
    return { name: `legacy-rfc5649/${i}`, kekHex: kek.toString('hex'), dekHex: dek.toString('hex'), wrappedBase64: kwpWrap(kek, dek).toString('base64') };
  });
  const wycheproof = wycheproofDekCase();
  legacyDeks.push({
    name: `legacy-rfc5649/wycheproof-aes_kwp_test-tcId-${wycheproof.tcId}`,
    kekHex: wycheproof.key,
    dekHex: wycheproof.msg,
    wrappedBase64: kwpWrap(Buffer.from(wycheproof.key, 'hex'), Buffer.from(wycheproof.msg, 'hex')).toString('base64'),
  });
  const kekBindings = [
    ['default', 1],
    ['default', 2],
    ['tenant-b', 1],
    ['mandant-ä', 4294967295],
  ].map(([keyring, version], i) => {
    const kek = fixed(`b1/kek/${i}`, 32);
    return {
      name: `b1/${i}`,
      kekHex: kek.toString('hex'),
      keyring,
      version,
      inputHex: lengthPrefixed('keystrata/kek-binding/v1', keyring, version).toString('hex'),
      binding: kekBinding(kek, keyring, version),
    };
  });
  return {
    format: 'wrapped-keys',
    description:
      'Stored wrapped keys: bound DEKs (k2. + base64(IV ‖ AES-256-GCM(KEK, DEK) ‖ tag), AAD keystrata/dek-wrap/v2 ‖ lp(keyring) ‖ lp(segment) ‖ lp(id) ‖ u32(version) ‖ u32(kekVersion)); legacy DEKs (plain base64 of RFC 5649 AES-256 key wrap with padding); KEK bindings (b1. + base64(HMAC-SHA256(KEK, keystrata/kek-binding/v1 ‖ lp(keyring) ‖ u32(version)))).',
    generatedBy: GENERATED_BY,
    boundDeks,
    legacyDeks,
    kekBindings,
    memberCopiesDescription:
      "Wrapped KEKs of a root of independent members (issue 14): 'KSMC' ‖ u8 version (1) ‖ u8 count ‖ per copy u8 name length ‖ member name (UTF-8) ‖ u16 copy length ‖ that member's wrapped KEK (opaque; here RFC 5649 under the member's CMK); stored base64 in the KEK row.",
    memberCopies: memberCopyVectors(),
  };
}

/** Containers of per-member KEK copies (issue 14): a KEK wrapped under each member's CMK. */
function memberCopyVectors() {
  const cases = [
    ['two-members', ['hsm-a', 'hsm-b']],
    ['three-members-dr-site', ['primary', 'secondary', 'dr-site.eu-west_1']],
    ['one-member', ['only']],
  ];
  return cases.map(([name, members]) => {
    const kek = fixed(`member-copies/kek/${name}`, 32);
    const copies = members.map((member) => {
      const cmk = fixed(`member-copies/cmk/${member}`, 32);
      return { member, cmkHex: cmk.toString('hex'), wrappedBase64: kwpWrap(cmk, kek).toString('base64') };
    });
    const stored = encodeMemberCopies(copies.map((c) => ({ member: c.member, wrapped: Buffer.from(c.wrappedBase64, 'base64') })));
    return { name: `member-copies/${name}`, kekHex: kek.toString('hex'), copies, storedBase64: stored.toString('base64') };
  });
}

// ---------------------------------------------------------------------------------------------
// 4. MAC inputs (the HSM MACs these digests; the MAC key never leaves it)

/** The audit digest's preimage, spelled out: each part as a 4-byte big-endian length and its UTF-8 bytes. */
function auditPreimage(seq, prevMac, entry) {
  const chunks = [];
  for (const part of ['keystrata-audit-v1', String(seq), prevMac, entry.at, entry.event, entry.subject, entry.actor, entry.details]) {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    chunks.push(length, bytes);
  }
  return Buffer.concat(chunks);
}

/** The v2 audit digest's preimage (trails started with a store id): 'keystrata-audit-v2', the store id, then as v1. */
function auditPreimageV2(storeId, seq, prevMac, entry) {
  const chunks = [];
  for (const part of ['keystrata-audit-v2', storeId, String(seq), prevMac, entry.at, entry.event, entry.subject, entry.actor, entry.details]) {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    chunks.push(length, bytes);
  }
  return Buffer.concat(chunks);
}

const BACKUP_CONTENTS = {
  createdAt: '2026-12-04T15:00:00.000Z',
  root: 'pkcs11:token=keystrata-dev',
  cmks: [{ keyring: 'default', version: 1, hsmLabel: 'keystrata-cmk-default-v1', hsmId: '0a1b2c3d', state: 'primary', createdAt: '2026-12-01T09:00:00.000Z', updatedAt: '2026-12-01T09:00:00.000Z' }],
  keks: [{ keyring: 'default', version: 1, cmkVersion: 1, wrapped: 'AAAA', state: 'primary', createdAt: '2026-12-01T09:00:01.000Z', updatedAt: '2026-12-01T09:00:01.000Z', binding: 'b1.AAAA' }],
  deks: [
    {
      id: '00112233445566778899aabbccddeeff',
      keyring: 'default',
      segment: 'tenant:ä',
      version: 1,
      kekVersion: 1,
      wrapped: 'k2.AAAA',
      state: 'primary',
      createdAt: '2026-12-01T09:00:02.000Z',
      updatedAt: '2026-12-01T09:00:02.000Z',
    },
  ],
  auditHead: { seq: 3, mac: 'bWFj' },
  tombstones: [],
};

function macInputVectors() {
  const entries = [
    { seq: 1, prevMac: '', entry: { at: '2026-12-01T09:00:00.000Z', event: 'audit-key', subject: 'audit-key', actor: 'cli:alice', details: '{"hsmId":"0a1b2c3d","checkValue":"a1b2c3"}' } },
    { seq: 2, prevMac: 'q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8=', entry: { at: '2026-12-01T09:00:01.000Z', event: 'generate', subject: 'kek:default/1', actor: 'app', details: '{}' } },
    {
      seq: 3,
      prevMac: 'bWFj',
      entry: { at: '2026-12-01T09:00:02.000Z', event: 'destroy', subject: 'dek:00112233445566778899aabbccddeeff', actor: 'opérateur ü', details: '{"segment":"tenant:ä","reason":"shred"}' },
    },
    { seq: 4294967296, prevMac: 'bWFj', entry: { at: '2026-12-01T09:00:03.000Z', event: 'backup', subject: 'store', actor: '', details: '' } },
  ];
  const audit = entries.map(({ seq, prevMac, entry }, i) => ({
    name: `audit/${i}`,
    seq,
    prevMac,
    entry,
    preimageHex: auditPreimage(seq, prevMac, entry).toString('hex'),
    digestHex: auditDigest(seq, prevMac, entry).toString('hex'),
  }));
  const storeId = fixedHex('audit-v2/store-id', 16);
  const entriesV2 = [
    {
      seq: 1,
      prevMac: '',
      entry: { at: '2026-12-04T15:00:00.000Z', event: 'audit-key', subject: 'audit-key', actor: 'cli:alice', details: `{"hsmId":"0a1b2c3d","checkValue":"a1b2c3","storeId":"${storeId}"}` },
    },
    {
      seq: 2,
      prevMac: 'q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8=',
      entry: {
        at: '2026-12-04T15:00:01.000Z',
        event: 'generate',
        subject: 'cmk:default:v1',
        actor: 'app',
        details: '{"keyring":"default","version":1,"hsmLabel":"keystrata-cmk/default/v1","hsmId":"0a1b2c3d"}',
      },
    },
    {
      seq: 3,
      prevMac: 'bWFj',
      entry: { at: '2026-12-04T15:00:02.000Z', event: 'destroy', subject: 'dek:00112233445566778899aabbccddeeff', actor: 'opérateur ü', details: '{"segment":"tenant:ä","reason":"shred"}' },
    },
  ];
  const auditV2 = entriesV2.map(({ seq, prevMac, entry }, i) => ({
    name: `audit-v2/${i}`,
    storeId,
    seq,
    prevMac,
    entry,
    preimageHex: auditPreimageV2(storeId, seq, prevMac, entry).toString('hex'),
    digestHex: auditDigest(seq, prevMac, entry, storeId).toString('hex'),
  }));
  const payloads = [
    ['backup/empty-object', '{}'],
    ['backup/contents', JSON.stringify(BACKUP_CONTENTS)],
  ];
  const backup = payloads.map(([name, payload]) => ({
    name,
    payload,
    preimageHex: Buffer.concat([Buffer.from('keystrata-backup-v1\u0000', 'utf8'), Buffer.from(payload, 'utf8')]).toString('hex'),
    digestHex: backupDigest(payload).toString('hex'),
  }));
  return {
    format: 'mac-inputs',
    description:
      "What the HSM's audit key MACs: audit records (SHA-256 of lp('keystrata-audit-v1') ‖ lp(seq as decimal) ‖ lp(prevMac) ‖ lp(at) ‖ lp(event) ‖ lp(subject) ‖ lp(actor) ‖ lp(details)) and backup files (SHA-256 of 'keystrata-backup-v1' ‖ 0 ‖ payload); lp = 4-byte big-endian UTF-8 length, then the bytes.",
    generatedBy: GENERATED_BY,
    audit,
    backup,
    auditV2Description: "Audit records of trails whose audit-key record names a store id (issue 11 §5): SHA-256 of lp('keystrata-audit-v2') ‖ lp(storeId) ‖ then as above from lp(seq as decimal).",
    auditV2,
  };
}

// ---------------------------------------------------------------------------------------------
// 5. Wrapped KEKs (issue 14): the stored form of a KEK wrapped by a CMK inside the HSM. The CMK never
// leaves an HSM, so these use fixed CMK bytes (imported as a session key in the tests) to pin the layout.

/** RFC 3394 (CKM_AES_KEY_WRAP), as node:crypto id-aes256-wrap computes it. */
const rfc3394 = (kek, key) => {
  const cipher = createCipheriv('id-aes256-wrap', kek, Buffer.alloc(8, 0xa6));
  return Buffer.concat([cipher.update(key), cipher.final()]);
};

function wrappedKekVectors() {
  const entry = (name, i, mechanismName, make) => {
    const cmk = fixed(`kw1/cmk/${i}`, 32);
    const kek = fixed(`kw1/kek/${i}`, 32);
    const { body, stored } = make(cmk, kek);
    return { name, cmkHex: cmk.toString('hex'), kekHex: kek.toString('hex'), mechanism: mechanismName, bodyHex: body.toString('hex'), wrappedBase64: stored.toString('base64') };
  };
  const vectors = [
    ...[0, 1].map((i) => entry(`kw1/aes-key-wrap/${i}`, i, 'CKM_AES_KEY_WRAP', (cmk, kek) => ({ body: rfc3394(cmk, kek), stored: encodeWrappedKek(CKM_AES_KEY_WRAP, rfc3394(cmk, kek)) }))),
    entry('kw1/aes-key-wrap-pad/rfc5649', 2, 'CKM_AES_KEY_WRAP_PAD', (cmk, kek) => ({ body: kwpWrap(cmk, kek), stored: encodeWrappedKek(CKM_AES_KEY_WRAP_PAD, kwpWrap(cmk, kek)) })),
    entry('kw1/aes-key-wrap-pad/nss-pkcs7', 3, 'CKM_AES_KEY_WRAP_PAD', (cmk, kek) => {
      const body = rfc3394(cmk, Buffer.concat([kek, Buffer.alloc(8, 8)]));
      return { body, stored: encodeWrappedKek(CKM_AES_KEY_WRAP_PAD, body) };
    }),
    ...[4, 5].map((i) => entry(`legacy-rfc5649/${i - 4}`, i, 'CKM_AES_KEY_WRAP_PAD', (cmk, kek) => ({ body: kwpWrap(cmk, kek), stored: kwpWrap(cmk, kek) }))),
  ];
  return {
    format: 'wrapped-keks',
    description:
      "Stored wrapped KEKs (issue 14): 'kw' ‖ 0x01 ‖ u32 big-endian CKM_ mechanism ‖ the module's C_WrapKey bytes; CKM_AES_KEY_WRAP (0x2109) = RFC 3394, 40 bytes for a 32-byte KEK; CKM_AES_KEY_WRAP_PAD (0x210A) = RFC 5649 (40 bytes, SoftHSM2) or RFC 3394 over the key ‖ PKCS#7 padding (48 bytes, NSS softoken). Legacy: the bare 40 bytes of RFC 5649, no header.",
    generatedBy: GENERATED_BY,
    vectors,
  };
}

// ---------------------------------------------------------------------------------------------

const FILES = {
  'ks1-envelopes.json': envelopeVectors,
  'bi1-blind-indexes.json': blindIndexVectors,
  'wrapped-keys.json': wrappedKeyVectors,
  'mac-inputs.json': macInputVectors,
  'wrapped-keks.json': wrappedKekVectors,
};

const serialise = (content) => `${JSON.stringify(content, null, 2)}\n`;

/** Names of committed entries the new content would change or drop (lists are compared entry by entry). */
function editedEntries(old, next) {
  const edited = [];
  for (const [key, value] of Object.entries(old)) {
    if (Array.isArray(value)) {
      const nextList = Array.isArray(next[key]) ? next[key] : [];
      value.forEach((entry, i) => {
        if (JSON.stringify(entry) !== JSON.stringify(nextList[i])) edited.push(`${key}[${i}] ${entry.name ?? ''}`);
      });
    } else if (JSON.stringify(value) !== JSON.stringify(next[key])) edited.push(key);
  }
  return edited;
}

const check = process.argv.includes('--check');
let failed = false;
for (const [name, make] of Object.entries(FILES)) {
  const path = join(outDir, name);
  const text = serialise(make());
  const committed = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (committed === text) {
    console.log(`${name}: reproduced exactly`);
    continue;
  }
  if (check) {
    console.error(`${name}: ${committed === undefined ? 'missing' : 'differs from the generator output'}`);
    failed = true;
    continue;
  }
  if (committed !== undefined) {
    const edited = editedEntries(JSON.parse(committed), JSON.parse(text));
    if (edited.length > 0) {
      console.error(`${name}: refusing to edit committed vectors (${edited.join(', ')}). A format change adds entries or a new file; it never changes old ones.`);
      failed = true;
      continue;
    }
  }
  writeFileSync(path, text);
  console.log(`${name}: ${committed === undefined ? 'written' : 'new entries appended'}`);
}
process.exit(failed ? 1 : 0);
