import { inspect } from 'node:util';
import { KeystrataError } from '@keystrata/core';
import { describe, expect, it } from 'vitest';
import { MicroBatch } from '../src/batch.js';
import { Encrypted, EncryptedModel } from '../src/index.js';
import { encryptedPropertiesOf } from '../src/entity/decorators.js';
import { modelNameOf } from '../src/entity/model-name.js';
import { BlindIndexToken } from '../src/query/index-token.js';

describe('MicroBatch', () => {
  it('runs one batch per synchronous burst', async () => {
    const runs: number[][] = [];
    const batch = new MicroBatch<number>(async (items) => {
      runs.push([...items]);
    });
    await Promise.all([batch.add(1), batch.add(2), batch.add(3)]);
    await batch.add(4);
    expect(runs).toEqual([[1, 2, 3], [4]]);
  });

  it("fails each caller with its own item's error only", async () => {
    const batch = new MicroBatch<string>(async (items) => {
      if (items.includes('bad')) throw new KeystrataError('KEY_DISABLED', 'bad item');
    });
    const results = await Promise.allSettled([batch.add('good'), batch.add('bad'), batch.add('fine')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('fails every caller on an HSM or key-store outage without retrying item by item', async () => {
    let calls = 0;
    const batch = new MicroBatch<number>(async () => {
      calls++;
      throw new KeystrataError('HSM_UNAVAILABLE', 'down');
    });
    const results = await Promise.allSettled([batch.add(1), batch.add(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
  });
});

describe('BlindIndexToken', () => {
  it('never prints its plaintext, and fingerprints equal values equally', () => {
    const token = new BlindIndexToken('Patient', 'email', 'secret@example.test');
    for (const text of [String(token), inspect(token), JSON.stringify({ token })]) expect(text).not.toContain('secret');
    expect(JSON.stringify(token)).toBe(JSON.stringify(new BlindIndexToken('Patient', 'email', 'secret@example.test')));
    expect(JSON.stringify(token)).not.toBe(JSON.stringify(new BlindIndexToken('Patient', 'email', 'other@example.test')));
    expect(() => new BlindIndexToken('Patient', 'email', Symbol('x') as never)).toThrow(/cannot be encrypted/);
  });
});

describe('decorators', () => {
  it('collect encrypted properties across base classes and keep model names per class', () => {
    class Base {
      @Encrypted() ssn!: string;
    }
    @EncryptedModel('Person')
    class Child extends Base {
      @Encrypted({ index: 'emailIndex' }) email!: string;
    }
    expect([...encryptedPropertiesOf(Child)]).toEqual([
      ['ssn', {}],
      ['email', { index: 'emailIndex' }],
    ]);
    expect([...encryptedPropertiesOf(Base)]).toEqual([['ssn', {}]]);
    expect([modelNameOf(Child), modelNameOf(Base)]).toEqual(['Person', undefined]);
  });
});
