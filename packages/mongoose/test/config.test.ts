import { KeyHierarchy } from '@keystrata/core';
import { MemoryKeyStore, SoftwareRootKey } from '@keystrata/core/testing';
import mongoose, { Schema } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { decryptDocument, keystrata } from '../src/index.js';

const hierarchy = KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore: new MemoryKeyStore() });
const plug =
  (schema: Schema, options: object = {}) =>
  () =>
    schema.plugin(keystrata, { hierarchy, segment: { by: 'record' }, ...options });

describe('plugin configuration', () => {
  it('refuses what cannot be encrypted or configured, with CONFIG_INVALID', () => {
    expect(plug(new Schema({ age: { type: Number, encrypted: true } }))).toThrow(/CONFIG_INVALID.*age is a Number path/);
    expect(plug(new Schema({ visits: [new Schema({ note: { type: String, encrypted: true } })] }))).toThrow(/CONFIG_INVALID.*visits\.note.*inside an array or subdocument/);
    expect(plug(new Schema({ a: { type: String, encrypted: { index: 'a' } } }))).toThrow(/CONFIG_INVALID/);
    expect(plug(new Schema({ a: { type: String, encrypted: { index: 'n' } }, n: Number }))).toThrow(/must be a plain String path/);
    expect(plug(new Schema({ tenant: { type: String, encrypted: true } }), { segment: { by: 'tenant', field: 'tenant' } })).toThrow(/segment field tenant cannot be encrypted/);
    expect(plug(new Schema({ a: { type: String, encrypted: true } }), { segment: { by: 'nope' } })).toThrow(/CONFIG_INVALID/);
    expect(plug(new Schema({ a: { type: String, encrypted: true } }), { hierarchy: {} })).toThrow(/CONFIG_INVALID/);
    expect(plug(new Schema({ a: { type: String, encrypted: true } }), { onUnreadable: 'ignore' })).toThrow(/CONFIG_INVALID/);
  });

  it('issue 13 §1: a misspelt plugin option is refused, naming it and the closest valid key', () => {
    expect(plug(new Schema({ a: { type: String, encrypted: true } }), { onUnreadble: 'placeholder' })).toThrow(
      /CONFIG_INVALID: Unknown keystrata plugin option key "onUnreadble" \(did you mean "onUnreadable"\?\)/,
    );
    expect(plug(new Schema({ a: { type: String, encrypted: true } }), { bindRecordID: false })).toThrow(/"bindRecordID" \(did you mean "bindRecordId"\?\)/);
  });

  it('adds a missing blind-index path and accepts String and Mixed paths, nested objects included', () => {
    const schema = new Schema({
      email: { type: String, encrypted: { index: 'emailIndex' } },
      notes: { type: Schema.Types.Mixed, encrypted: true },
      address: { street: { type: String, encrypted: true } },
    });
    plug(schema)();
    expect(schema.path('emailIndex')?.instance).toBe('String');
  });

  it('decryptDocument refuses a model without the plugin', async () => {
    const Plain = mongoose.model('PlainConfigTest', new Schema({ a: String }));
    await expect(decryptDocument(Plain, {})).rejects.toThrow(/CONFIG_INVALID/);
  });
});
