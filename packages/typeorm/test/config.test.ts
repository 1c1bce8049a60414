import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { Encrypted, EncryptedModel, installKeystrata, keyStoreFor } from '../src/index.js';
import { ENTITIES, Patient } from './support/entities.js';
import { codeOf } from './support/helpers.js';
import { CompositeKey, IntegerColumn, MissingIndex, NotAColumn, SameA, SameB, WithEmbedded, WithTransformer } from './support/invalid-entities.js';
import { freshDatabase, openRootKey } from './support/stack.js';

const segment = { by: 'tenant', field: 'tenantId' } as const;

async function dataSourceWith(entities: Function[]): Promise<DataSource> {
  const ds = new DataSource({ ...(await freshDatabase('sqlite')), entities, synchronize: true });
  return ds.initialize();
}

describe('installKeystrata validation', () => {
  it.each([
    ['a non-text column', IntegerColumn, /must be a text column/],
    ['a transformer', WithTransformer, /cannot have a transformer/],
    ['an embedded column', WithEmbedded, /inside an embedded column/],
    ['a composite primary key', CompositeKey, /exactly one top-level primary column/],
    ['a property that is no column', NotAColumn, /must be a top-level @Column/],
    ['a missing blind-index column', MissingIndex, /nowhere \(blind-index\) must be a top-level @Column/],
  ])('refuses %s with CONFIG_INVALID', async (_, entity, message) => {
    const ds = await dataSourceWith([entity]);
    const install = installKeystrata(ds, { segment, rootKey: undefined as never });
    await expect(install).rejects.toThrow(message);
    expect(await codeOf(install)).toBe('CONFIG_INVALID');
    await ds.destroy();
  });

  it('refuses two entities with one model name, a missing root key, a second install and an uninitialized DataSource', async () => {
    const same = await dataSourceWith([SameA, SameB]);
    await expect(installKeystrata(same, { segment })).rejects.toThrow(/model name "Same"/);
    await same.destroy();
    const ds = await dataSourceWith(ENTITIES);
    await expect(installKeystrata(ds, { segment })).rejects.toThrow(/needs hierarchy or rootKey/);
    const rootKey = await openRootKey();
    const keystrata = await installKeystrata(ds, { segment, rootKey });
    expect(await codeOf(installKeystrata(ds, { segment, rootKey }))).toBe('CONFIG_INVALID');
    await keystrata.close();
    await ds.destroy();
    expect(await codeOf(installKeystrata(new DataSource({ type: 'better-sqlite3', database: ':memory:' }), { segment, rootKey }))).toBe('CONFIG_INVALID');
    expect(await codeOf(installKeystrata(ds, { segment: { by: 'nothing' } as never, rootKey }))).toBe('CONFIG_INVALID');
  });

  it('issue 13 §1: a misspelt option is refused, naming it and the closest valid key, before anything is opened', async () => {
    const ds = await dataSourceWith(ENTITIES);
    const rootKey = await openRootKey();
    try {
      const install = installKeystrata(ds, { segment, rootKey, keystore: undefined } as never);
      await expect(install).rejects.toThrow(/CONFIG_INVALID: Unknown installKeystrata option key "keystore" \(did you mean "keyStore"\?\)/);
      await expect(installKeystrata(ds, { segment, rootKey, onUnreadble: 'placeholder', colour: 1 } as never)).rejects.toThrow(/keys "onUnreadble" \(did you mean "onUnreadable"\?\), "colour"\./);
      // Nothing was installed: a correct install still works.
      const keystrata = await installKeystrata(ds, { segment, rootKey });
      await keystrata.close();
    } finally {
      await rootKey.close();
      await ds.destroy();
    }
  });

  it('covers query runners created before the install', async () => {
    for (const kind of ['sqlite', 'postgres'] as const) {
      const ds = await new DataSource({ ...(await freshDatabase(kind)), entities: ENTITIES, synchronize: true }).initialize();
      const early = ds.createQueryRunner();
      const keystrata = await installKeystrata(ds, { segment, rootKey: await openRootKey() });
      await ds.getRepository(Patient).save({ tenantId: 't1', ssn: 'early', email: 'early@example.test' });
      expect(await early.manager.getRepository(Patient).findOneBy({ email: 'early@example.test' })).toMatchObject({ ssn: 'early' });
      await early.release();
      await keystrata.close();
      await ds.destroy();
    }
  });

  it('has no built-in key store for an in-memory SQLite database', async () => {
    const ds = await new DataSource({ type: 'better-sqlite3', database: ':memory:', entities: [] }).initialize();
    expect(await codeOf(keyStoreFor(ds))).toBe('CONFIG_INVALID');
    await ds.destroy();
  });

  it('refuses invalid decorator arguments at once', () => {
    expect(() => Encrypted({ index: 'ssn' })(Object.prototype, 'ssn')).toThrow(/must name another property/);
    expect(() => EncryptedModel('')).toThrow(/non-empty name/);
  });

  it('leaves DataSources without Keystrata and entities without encrypted columns untouched', async () => {
    @Entity('plain_patient')
    class PlainPatient {
      @PrimaryGeneratedColumn('uuid') id!: string;
      @Encrypted() @Column('text') ssn!: string;
    }
    const plain = await dataSourceWith([PlainPatient]);
    await plain.getRepository(PlainPatient).save({ ssn: 'visible' });
    expect(await plain.query('SELECT ssn FROM plain_patient')).toEqual([{ ssn: 'visible' }]);
    expect(await plain.getRepository(PlainPatient).findOneByOrFail({ ssn: 'visible' })).toMatchObject({ ssn: 'visible' });
    await plain.destroy();
  });
});
