import { KeystrataError } from '@keystrata/core';
import { describe, expect, it } from 'vitest';
import { parseEncryptedAnnotation } from './annotation.js';
import { buildFieldMap } from './build-field-map.js';
import type { DmmfFieldLike, DmmfModelLike } from './dmmf.js';
import { idStrategy } from './id-strategy.js';

const field = (name: string, extra: Partial<DmmfFieldLike> = {}): DmmfFieldLike => ({ name, kind: 'scalar', type: 'String', isList: false, isId: false, isUnique: false, ...extra });
const patient = (fields: DmmfFieldLike[]): DmmfModelLike => ({ name: 'Patient', fields: [field('id', { isId: true, default: { name: 'cuid', args: [] } }), ...fields] });

describe('the keystrata-prisma generator', () => {
  it('parses @encrypted markers in /// comments, and refuses unknown options', () => {
    expect(parseEncryptedAnnotation('@encrypted')).toEqual({});
    expect(parseEncryptedAnnotation('The SSN.\n@encrypted(index: ssnIndex)')).toEqual({ index: 'ssnIndex' });
    expect(parseEncryptedAnnotation('plain text, admin@encrypted.example')).toBeNull();
    expect(parseEncryptedAnnotation(undefined)).toBeNull();
    expect(() => parseEncryptedAnnotation('@encrypted(indx: a)')).toThrow(/unsupported @encrypted option "indx: a" \(did you mean "index"\?\)/);
  });

  it('issue 13 §1: near misses of @encrypted (case, missing or swapped letter, stem, glued suffix, dangling parenthesis) are refused, naming the spelling', () => {
    for (const marker of ['@Encrypted', '@ENCRYPTED', '@encrypt', '@encrypte', '@encryted', '@ecnrypted', '@encryption', '@encryptedish', '@Encrypted(index: a)']) {
      expect(() => parseEncryptedAnnotation(`The SSN.\n${marker}`), marker).toThrow(/is not a Keystrata marker, and the field would stay plaintext: write `\/\/\/ @encrypted`/);
    }
    expect(() => parseEncryptedAnnotation('@encrypted(index: a')).toThrow(/malformed @encrypted marker/);
    expect(() => parseEncryptedAnnotation('@encrypted @encrypted(index: a)')).toThrow(/@encrypted appears twice/);
    expect(parseEncryptedAnnotation('@index @unique @decrypt not markers')).toBeNull();
    expect(parseEncryptedAnnotation("Read by TypeORM through @EncryptedModel('Patient').")).toBeNull(); // another name, not a near miss
    expect(buildFieldMap([patient([])], "// Shared with @EncryptedModel('Patient') in TypeORM.\nmodel Patient {\n  id String @id\n}").models.Patient!.encrypted).toEqual([]);
  });

  it('issue 13 §1: buildFieldMap throws a typed CONFIG_INVALID for a misspelt field marker, a model-level marker and a marker in a // comment', () => {
    const models = [{ ...patient([field('ssn', { documentation: '@Encrypted' })]), documentation: '@encrypted' }];
    const schema = 'model Patient {\n  // @encrypted\n  email String\n}';
    let thrown: unknown;
    try {
      buildFieldMap(models, schema);
    } catch (error) {
      thrown = error;
    }
    expect(KeystrataError.isInstance(thrown) && thrown.code).toBe('CONFIG_INVALID');
    const message = (thrown as Error).message;
    expect(message).toMatch(/Patient\.ssn: "@Encrypted" is not a Keystrata marker/);
    expect(message).toMatch(/Patient: @encrypted marks fields, not models/);
    expect(message).toMatch(/"\/\/ @encrypted": a marker in a "\/\/" comment is not seen by Prisma/);
  });

  it('maps id defaults to the strategies Keystrata can run before encrypting', () => {
    expect(
      [
        undefined,
        { name: 'cuid', args: [] },
        { name: 'cuid', args: [2] },
        { name: 'uuid', args: [4] },
        { name: 'uuid', args: [7] },
        { name: 'nanoid', args: [] },
        { name: 'ulid', args: [] },
        { name: 'autoincrement', args: [] },
        { name: 'dbgenerated', args: ['x'] },
        'literal',
      ].map(idStrategy),
    ).toEqual(['client', 'cuid', 'cuid2', 'uuid4', 'uuid7', 'nanoid', 'ulid', 'database', 'database', 'database']);
  });

  it('emits encrypted fields, index columns, id, scalars and relations per model', () => {
    const map = buildFieldMap([
      patient([
        field('ssn', { documentation: '@encrypted' }),
        field('email', { documentation: '@encrypted(index: emailIndex)' }),
        field('emailIndex', { isUnique: true }),
        field('visits', { kind: 'object', type: 'Visit', isList: true }),
      ]),
      {
        name: 'Visit',
        fields: [
          field('id', { isId: true, type: 'Int', default: { name: 'autoincrement', args: [] } }),
          field('patientId'),
          field('patient', { kind: 'object', type: 'Patient', relationFromFields: ['patientId'] }),
        ],
      },
    ]);
    expect(map.models.Patient).toEqual({
      encrypted: [{ field: 'ssn' }, { field: 'email', index: 'emailIndex' }],
      id: { field: 'id', type: 'String', strategy: 'cuid' },
      scalars: { id: 'String', ssn: 'String', email: 'String', emailIndex: 'String' },
      relations: { visits: { model: 'Visit', isList: true, fields: [] } },
    });
    expect(map.models.Visit!.relations.patient).toEqual({ model: 'Patient', isList: false, fields: ['patientId'] });
    expect(map.models.Visit!.id!.strategy).toBe('database');
  });

  it('refuses annotations that could not hold ciphertext, listing every problem at once', () => {
    const build = () =>
      buildFieldMap([
        patient([
          field('age', { type: 'Int', documentation: '@encrypted' }),
          field('code', { isUnique: true, documentation: '@encrypted' }),
          field('email', { documentation: '@encrypted(index: missing)' }),
          field('tags', { isList: true, documentation: '@encrypted' }),
          field('a', { documentation: '@encrypted(index: a2)' }),
          field('b', { documentation: '@encrypted(index: a2)' }),
          field('a2'),
        ]),
      ]);
    expect(build).toThrow(/Patient\.age: @encrypted needs a single String field/);
    expect(build).toThrow(/Patient\.code: @unique on ciphertext never matches/);
    expect(build).toThrow(/Patient\.email: index column "missing" does not exist/);
    expect(build).toThrow(/Patient\.tags: @encrypted needs a single String field/);
    expect(build).toThrow(/Patient\.b: index column "a2" is used by two fields/);
  });
});
