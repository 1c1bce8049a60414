import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// Issue 13 §1: an application that uses one database, or none, compiles against core's
// declarations without @types/pg and @types/better-sqlite3 (and without pg or better-sqlite3).
// The app sees only what a user installs: core's package.json and dist, its dependency pkcs11js
// (which ships its own types) and @types/node. skipLibCheck is off, so every .d.ts is checked.
const PACKAGE_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
const requireHere = createRequire(join(PACKAGE_DIR, 'package.json'));
const CORE_DIR = realpathSync(join(PACKAGE_DIR, 'node_modules', '@keystrata', 'core'));
const TSC = requireHere.resolve('typescript/bin/tsc');

const APP = `
import { KeyHierarchy, KeystrataError, Pkcs11RootKey, SqlKeyStore, createPostgresDriver, createSqliteDriver, type SqliteDatabase } from '@keystrata/core';
import { RecordEncryptor } from '@keystrata/core/adapter';
import { MemoryKeyStore, SoftwareRootKey } from '@keystrata/core/testing';

export async function open(database: SqliteDatabase | string): Promise<KeyHierarchy> {
  const rootKey = await Pkcs11RootKey.open({ module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'app', pin: { env: 'PIN' } });
  const keyStore = new SqlKeyStore(typeof database === 'string' && database.startsWith('postgres') ? await createPostgresDriver({ database }) : await createSqliteDriver({ database }));
  return KeyHierarchy.create({ rootKey, keyStore });
}
export const forTests = (): Promise<KeyHierarchy> => KeyHierarchy.create({ rootKey: new SoftwareRootKey(), keyStore: new MemoryKeyStore() });
export const isKeystrataError = (error: unknown): boolean => KeystrataError.isInstance(error);
export type Encryptor = RecordEncryptor;
`;

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A fresh app directory holding only what a user of core installs, compiled by tsc. */
function compileApp(packageType: 'module' | 'commonjs'): string {
  const root = mkdtempSync(join(tmpdir(), 'keystrata-types-'));
  roots.push(root);
  const core = join(root, 'node_modules', '@keystrata', 'core');
  mkdirSync(core, { recursive: true });
  for (const part of ['package.json', 'dist', 'adapter', 'testing']) cpSync(join(CORE_DIR, part), join(core, part), { recursive: true });
  mkdirSync(join(root, 'node_modules', '@types'), { recursive: true });
  symlinkSync(realpathSync(join(PACKAGE_DIR, 'node_modules', '@types', 'node')), join(root, 'node_modules', '@types', 'node'));
  symlinkSync(realpathSync(join(CORE_DIR, 'node_modules', 'pkcs11js')), join(root, 'node_modules', 'pkcs11js'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'app', private: true, type: packageType }));
  writeFileSync(join(root, 'app.ts'), APP);
  writeFileSync(
    join(root, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'ES2022', strict: true, skipLibCheck: false, noEmit: true, types: ['node'] },
      files: ['app.ts'],
    }),
  );
  try {
    return execFileSync(process.execPath, [TSC, '-p', root], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  } catch (error) {
    return String((error as { stdout?: string }).stdout ?? error);
  }
}

describe('core type declarations', () => {
  it.each(['module', 'commonjs'] as const)('issue 13 §1: a %s app compiles against @keystrata/core with no @types/pg, no @types/better-sqlite3 and no drivers', (packageType) => {
    const output = compileApp(packageType);
    expect(output).toBe('');
  });
});
