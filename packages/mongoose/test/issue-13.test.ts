import { KeyHierarchy, KeystrataError } from '@keystrata/core';
import { MemoryKeyStore, SoftwareRootKey } from '@keystrata/core/testing';
import { Schema } from 'mongoose';
import { afterEach, describe, expect, it } from 'vitest';
import { keystrata } from '../src/index.js';
import { codeOf } from './support/checks.js';
import { openFixture, patientSchema, rawPatients, type Fixture } from './support/fixture.js';

const unitHierarchy = KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore: new MemoryKeyStore() });

/** Applies the plugin to a schema built from `definition`; the thrown error, or null. */
function applyTo(definition: Record<string, unknown>, schemaOptions: Record<string, unknown> = {}): KeystrataError | null {
  try {
    new Schema({ tenantId: String, ...definition }, schemaOptions).plugin(keystrata, { hierarchy: unitHierarchy, segment: { by: 'tenant', field: 'tenantId' } });
    return null;
  } catch (error) {
    if (!KeystrataError.isInstance(error)) throw error;
    return error;
  }
}

describe('issue 13 (Mongoose markers)', () => {
  let f: Fixture | undefined;
  afterEach(async () => {
    await f?.teardown();
    f = undefined;
  });

  it('issue 13 §1: Encrypted: true and other near misses of encrypted are refused by the plugin naming `encrypted: true`', () => {
    for (const key of ['Encrypted', 'ENCRYPTED', 'encryted', 'encrypte', 'encryption', 'ecnrypted']) {
      const error = applyTo({ ssn: { type: String, [key]: true } });
      expect(error?.code, key).toBe('CONFIG_INVALID');
      expect(error?.message).toContain(`ssn has the option "${key}", which Keystrata does not read (the path would be stored in plaintext): write \`encrypted: true\``);
    }
    expect(applyTo({ email: { type: String, Encrypted: { index: 'emailIndex' } } })?.message).toMatch(/email has the option "Encrypted"/);
    expect(applyTo({ address: { street: { type: String, encryptd: true } } })?.message).toMatch(/address\.street has the option "encryptd"/);
    expect(applyTo({ visits: [new Schema({ note: { type: String, Encrypted: true } })] })?.message).toMatch(/visits\.note has the option "Encrypted"/);
    expect(applyTo({ tags: [{ type: String, Encrypted: true }] })?.code).toBe('CONFIG_INVALID');
    // Not markers: the right spelling, a false near miss, a field named "Encrypted", MongoDB's own `encrypt` object.
    expect(applyTo({ ssn: { type: String, encrypted: true }, note: { type: String, Encrypted: false }, flags: { Encrypted: Boolean } })).toBeNull();
  });

  it('issue 13 §1: encrypt: true is refused (by Mongoose without encryptionType, by the plugin with it), naming `encrypted: true`', () => {
    expect(() => new Schema({ ssn: { type: String, encrypt: true } } as Record<string, unknown>)).toThrow(/encryptionType must be provided/);
    const error = applyTo({ ssn: { type: String, encrypt: true } }, { encryptionType: 'csfle' });
    expect(error?.code).toBe('CONFIG_INVALID');
    expect(error?.message).toContain('ssn has the option "encrypt", which Keystrata does not read');
    expect(error?.message).toContain('write `encrypted: true`');
  });

  it('issue 13 §1: unknown keys inside encrypted: { … } (indexed, segmnet) are refused naming "index"', () => {
    const indexed = applyTo({ email: { type: String, encrypted: { indexed: 'emailIndex' } } });
    expect(indexed?.code).toBe('CONFIG_INVALID');
    expect(indexed?.message).toContain('email: encrypted has no option "indexed" (did you mean "index"?); its only option is "index"');
    const segment = applyTo({ email: { type: String, encrypted: { index: 'emailIndex', segmnet: 'x' } } });
    expect(segment?.message).toContain('email: encrypted has no option "segmnet"; its only option is "index" (the DEK segment comes from the plugin\'s segment option)');
    expect(applyTo({ email: { type: String, encrypted: 'yes' } })?.message).toMatch(/email: encrypted must be true, false or \{ index/);
  });

  it('issue 13 §1: a misspelt marker added with schema.add() after the plugin fails the write, nothing written', async () => {
    const schema = patientSchema();
    f = await openFixture({}, schema);
    (schema as unknown as Schema).add({ diagnosis: { type: String, Encrypted: true } });
    expect(await codeOf(f.Patient.create({ tenantId: 'acme', ssn: 'CANARY-1', diagnosis: 'CANARY-DIAGNOSIS' } as Record<string, unknown>))).toBe('CONFIG_INVALID');
    schema.remove('diagnosis');
    (schema as unknown as Schema).add({ referral: { type: String, encrypted: { indexed: 'referralIndex' } as { index?: string } } });
    expect(await codeOf(f.Patient.insertMany([{ tenantId: 'acme', referral: 'CANARY-REFERRAL' }]))).toBe('CONFIG_INVALID');
    expect(await rawPatients(f)).toEqual([]);
  });
});
