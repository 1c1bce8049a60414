import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fieldMap } from './generated/sqlite/keystrata/index.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const prismaCli = join(dirname(createRequire(import.meta.url).resolve('prisma/package.json')), 'build', 'index.js');

function generate(schema: string): { status: number | null; output: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'keystrata-gen-'));
  writeFileSync(join(dir, 'schema.prisma'), schema);
  const result = spawnSync(process.execPath, [prismaCli, 'generate', '--schema', join(dir, 'schema.prisma')], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${join(packageDir, 'test', 'generated', '.bin')}:${process.env.PATH ?? ''}`, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}`, dir };
}

const HEADER = 'datasource db {\n  provider = "sqlite"\n}\ngenerator keystrata {\n  provider = "keystrata-prisma"\n  output   = "./out"\n}\n';

describe('prisma generate with provider "keystrata-prisma"', () => {
  it("emitted the test schema's field map as index.ts and field-map.json", () => {
    const json = JSON.parse(readFileSync(join(packageDir, 'test', 'generated', 'sqlite', 'keystrata', 'field-map.json'), 'utf8')) as unknown;
    expect(json).toEqual(fieldMap);
    expect(fieldMap.models.User.encrypted).toEqual([{ field: 'email', index: 'emailIndex' }, { field: 'name' }]);
    expect(fieldMap.models.Comment.id).toEqual({ field: 'id', type: 'Int', strategy: 'database' });
    expect(fieldMap.models.Post.relations.author).toEqual({ model: 'User', isList: false, fields: ['authorId'] });
    expect(fieldMap.models.Tag.encrypted).toEqual([]);
  });

  it('runs from PATH in a fresh project and fails generation on an invalid annotation', () => {
    const ok = generate(`${HEADER}model Note {\n  id String @id @default(uuid(7))\n  /// @encrypted\n  body String\n}\n`);
    expect(ok.status, ok.output).toBe(0);
    expect(JSON.parse(readFileSync(join(ok.dir, 'out', 'field-map.json'), 'utf8')).models.Note.id.strategy).toBe('uuid7');
    const bad = generate(`${HEADER}model Note {\n  id Int @id\n  /// @encrypted\n  score Int\n}\n`);
    expect(bad.status).not.toBe(0);
    expect(bad.output).toMatch(/Note\.score: @encrypted needs a single String field/);
    expect(existsSync(join(bad.dir, 'out', 'field-map.json'))).toBe(false);
  });

  const NOTE = (marker: string, comment = '///') => `${HEADER}model Note {\n  id String @id @default(uuid(7))\n  ${comment} ${marker}\n  body String\n  bodyIndex String?\n}\n`;
  const refused = (marker: string, comment?: string) => {
    const result = generate(NOTE(marker, comment));
    expect(result.status, result.output).not.toBe(0);
    expect(existsSync(join(result.dir, 'out', 'field-map.json')), 'nothing written').toBe(false);
    expect(existsSync(join(result.dir, 'out', 'index.ts')), 'nothing written').toBe(false);
    expect(result.output).toMatch(/CONFIG_INVALID/);
    return result.output;
  };

  it('issue 13 §1: a misspelt Prisma marker (@Encrypted, @encrypt, a missing letter) fails generation naming "@encrypted", nothing written', () => {
    for (const marker of ['@Encrypted', '@encrypt', '@encryted', '@ENCRYPTED(index: bodyIndex)']) {
      expect(refused(marker)).toContain(`Note.body: "${marker.replace(/\(.*/, '')}" is not a Keystrata marker, and the field would stay plaintext: write \`/// @encrypted\``);
    }
  }, 60_000);

  it('issue 13 §1: @encrypted with unknown or malformed arguments, or in a plain // comment, fails generation with the correct spelling', () => {
    expect(refused('@encrypted(indexed: bodyIndex)')).toMatch(/unsupported @encrypted option "indexed: bodyIndex" \(did you mean "index"\?\)/);
    expect(refused('@encrypted(segment: x)')).toMatch(/unsupported @encrypted option "segment: x": only "index: <column>" is known/);
    expect(refused('@encrypted(index: bodyIndex')).toMatch(/malformed @encrypted marker/);
    expect(refused('@encrypted', '//')).toMatch(/"\/\/ @encrypted": a marker in a "\/\/" comment is not seen by Prisma.*three slashes/);
  }, 60_000);
});
