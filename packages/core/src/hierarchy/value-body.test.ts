import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { envelopeDekId } from '../envelope/envelope-format.js';
import type { FieldContext } from '../envelope/field-context.js';
import { sealEnvelope } from '../envelope/seal.js';
import { MemoryKeyStore } from '../key-store/memory-key-store.js';
import { unwrapDek } from '../key-wrap/dek-wrap.js';
import { RecordEncryptor } from '../records/record-encryptor.js';
import { UnreadableValue } from '../records/unreadable-value.js';
import { SoftwareRootKey } from '../root-key/software-root-key.js';
import { KeyHierarchy } from './key-hierarchy.js';

const context: FieldContext = { model: 'Patient', field: 'notes', recordId: 'p1', segment: 'tenant:a' };

/** Seals `plaintext` (type tag and body as given) under the segment's real DEK: an authentic value a faulty writer made. */
async function authentic(plaintext: string) {
  const rootKey = new SoftwareRootKey();
  const keyStore = new MemoryKeyStore();
  const hierarchy = await KeyHierarchy.create({ rootKey, keyStore });
  await hierarchy.provision();
  const good = await hierarchy.encryptValue({ ok: true }, context);
  const [chain] = await keyStore.loadDekChains([envelopeDekId(good)]);
  const kek = await rootKey.unwrapKek({ label: chain!.cmk!.hsmLabel, id: chain!.cmk!.hsmId }, Buffer.from(chain!.kek!.wrapped, 'base64'));
  const dek = unwrapDek(kek.exposeSecretBytes(), chain!.dek.wrapped, chain!.dek, { legacy: 'refuse' });
  const bad = sealEnvelope(dek.exposeSecretBytes(), chain!.dek.id, randomBytes(12), Buffer.from(plaintext, 'utf8'), context);
  dek.destroy();
  kek.destroy();
  return { hierarchy, good, bad };
}

describe('issue 11 §4: an authentic value whose body does not match its type tag', () => {
  it.each([
    ['j', 'j{"CANARY-secret'],
    ['i', 'i12CANARY'],
    ['n', 'nCANARY'],
    ['b', 'bCANARY'],
    ['d', 'dCANARY-not-a-date'],
  ])('issue 11 §4: tag %s with a bad body is a typed per-value error without plaintext, failing only that value', async (_, plaintext) => {
    const { hierarchy, good, bad } = await authentic(plaintext);
    const results = await hierarchy.decryptValuesSettled([
      { ciphertext: bad, context },
      { ciphertext: good, context },
    ]);
    expect(results[1]).toEqual({ ok: true, value: { ok: true } });
    expect(results[0]!.ok).toBe(false);
    const error = (results[0] as { error: Error & { code: string } }).error;
    expect(error.code).toBe('CIPHERTEXT_MALFORMED');
    expect(JSON.stringify({ message: error.message, cause: String(error.cause), details: (error as { details?: unknown }).details })).not.toContain('CANARY');
    await expect(hierarchy.decryptValue(bad, context)).rejects.toMatchObject({ code: 'CIPHERTEXT_MALFORMED' });
  });

  it('issue 11 §4: in placeholder mode only the bad value becomes an UnreadableValue', async () => {
    const { hierarchy, good, bad } = await authentic('j{"CANARY');
    const records = new RecordEncryptor({ hierarchy, onUnreadable: 'placeholder', segment: { by: 'fixed', segment: 'tenant:a' }, models: { Patient: { fields: [{ field: 'notes' }] } } });
    const rows: Array<Record<string, unknown>> = [
      { id: 'p1', notes: bad },
      { id: 'p1', notes: good },
    ];
    await records.decrypt('Patient', rows);
    expect(rows[0]!.notes).toBeInstanceOf(UnreadableValue);
    expect((rows[0]!.notes as UnreadableValue).code).toBe('CIPHERTEXT_MALFORMED');
    expect(rows[1]!.notes).toEqual({ ok: true });
  });
});

describe('issue 11 §5: lone UTF-16 surrogates', () => {
  it('issue 11 §5: are refused on write and for blind indexes (PLAINTEXT_REJECTED), so two strings never share an index', async () => {
    const hierarchy = await KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore: new MemoryKeyStore() });
    await hierarchy.provision();
    await expect(hierarchy.encryptValue('a\uD800', context)).rejects.toMatchObject({ code: 'PLAINTEXT_REJECTED' });
    await expect(hierarchy.blindIndex('a\uD800', { model: 'Patient', field: 'notes' })).rejects.toMatchObject({ code: 'PLAINTEXT_REJECTED' });
    await expect(hierarchy.blindIndex('a\uDBFF', { model: 'Patient', field: 'notes' })).rejects.toMatchObject({ code: 'PLAINTEXT_REJECTED' });
    expect(await hierarchy.decryptValue(await hierarchy.encryptValue('a\uD83D\uDE00', context), context)).toBe('a\uD83D\uDE00');
  });
});
