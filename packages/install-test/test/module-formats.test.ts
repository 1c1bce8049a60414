import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';

// The built packages as Node loads them for users, in a plain `node` child (no vitest transform):
// `require` must get dist/cjs, `import` dist/.
const PACKAGE_DIR = dirname(dirname(fileURLToPath(import.meta.url)));

function runNode(format: 'commonjs' | 'module', code: string, env: Record<string, string> = {}): string {
  return execFileSync(process.execPath, ['--input-type', format, '--eval', code], {
    cwd: PACKAGE_DIR,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

const EXPECTED_EXPORTS: Record<string, readonly string[]> = {
  '@keystrata/core': ['KeyHierarchy', 'KeystrataError', 'Pkcs11RootKey', 'SqlKeyStore', 'createSqliteDriver', 'ERROR_CODES'],
  '@keystrata/cli': ['main', 'loadConfig', 'openHierarchy'],
  '@keystrata/prisma': ['withKeystrata', 'decryptRow'],
  '@keystrata/typeorm': ['Encrypted'],
  '@keystrata/mongoose': ['MongoKeyStore'],
};

describe('module formats', () => {
  for (const [name, exports] of Object.entries(EXPECTED_EXPORTS)) {
    it(`issue 13 §1: require('${name}') loads the CommonJS build with its exports`, () => {
      const out = runNode(
        'commonjs',
        `const m = require(${JSON.stringify(name)}); console.log(JSON.stringify({ file: require.resolve(${JSON.stringify(name)}), keys: Object.keys(m).filter((k) => m[k] !== undefined) }));`,
      );
      const { file, keys } = JSON.parse(out) as { file: string; keys: string[] };
      expect(file).toMatch(/[\\/]dist[\\/]cjs[\\/]index\.js$/);
      expect(keys).toEqual(expect.arrayContaining([...exports]));
    });

    it(`issue 13 §1: import('${name}') loads the ESM build with its exports`, () => {
      const out = runNode(
        'module',
        `const m = await import(${JSON.stringify(name)}); console.log(JSON.stringify({ file: import.meta.resolve(${JSON.stringify(name)}), keys: Object.keys(m).filter((k) => m[k] !== undefined) }));`,
      );
      const { file, keys } = JSON.parse(out) as { file: string; keys: string[] };
      expect(file).toMatch(/\/dist\/index\.js$/);
      expect(keys).toEqual(expect.arrayContaining([...exports]));
    });
  }
});

describe('dual-package hazard', () => {
  it('issue 13 §1: an error thrown by the CommonJS copy of core is a KeystrataError to the ESM copy', () => {
    const out = runNode(
      'module',
      `
      import { createRequire } from 'node:module';
      const commonJs = createRequire(import.meta.url)('@keystrata/core');
      const esm = await import('@keystrata/core');
      const error = new commonJs.KeystrataError('CONFIG_INVALID', 'Fix the option.');
      console.log(JSON.stringify({ twoCopies: commonJs.KeystrataError !== esm.KeystrataError, isInstance: esm.KeystrataError.isInstance(error) }));`,
    );
    expect(JSON.parse(out)).toEqual({ twoCopies: true, isInstance: true });
  });

  it("issue 13 §1: closing the ESM copy's root key leaves the CommonJS copy's sessions on the same PKCS#11 module working", () => {
    const token = inject('softhsm');
    // With one module registry per copy, closing the ESM root key would C_Finalize the module
    // under the CommonJS one: its next call loses its sessions (CKR_CRYPTOKI_NOT_INITIALIZED) and
    // only a reconnect saves it; an operation in flight at that moment would fail.
    const out = runNode(
      'module',
      `
      import { createRequire } from 'node:module';
      const commonJs = createRequire(import.meta.url)('@keystrata/core');
      const esm = await import('@keystrata/core');
      const options = { module: process.env.TEST_MODULE, tokenLabel: process.env.TEST_TOKEN, pin: { env: 'TEST_PIN' }, moduleEnvironment: { SOFTHSM2_CONF: process.env.TEST_CONF }, sessions: 1 };
      const fromCommonJs = await commonJs.Pkcs11RootKey.open(options);
      try {
        const fromEsm = await esm.Pkcs11RootKey.open(options);
        const cmk = await fromCommonJs.createCmk('dual-package-' + process.pid);
        const wrapped = await fromCommonJs.generateWrappedKek(cmk);
        await fromEsm.close();
        const kek = await fromCommonJs.unwrapKek(cmk, wrapped);
        console.log(JSON.stringify({ unwrapped: kek !== undefined, reconnects: fromCommonJs.stats.reconnects }));
        await fromCommonJs.destroyCmk(cmk);
      } finally {
        await fromCommonJs.close();
      }`,
      { TEST_MODULE: token.module, TEST_TOKEN: token.tokenLabel, TEST_PIN: token.pin, TEST_CONF: token.conf },
    );
    expect(JSON.parse(out)).toEqual({ unwrapped: true, reconnects: 0 });
  });
});

describe('entry points by audience', () => {
  const ENTRIES: Record<string, { has: readonly string[]; file: string }> = {
    '@keystrata/core/adapter': { has: ['RecordEncryptor', 'resolveSegment', 'AsyncMutex', 'envelopeDekId', 'UnreadableValue'], file: 'adapter.js' },
    '@keystrata/core/testing': { has: ['SoftwareRootKey', 'MemoryKeyStore'], file: 'testing.js' },
    '@keystrata/cli/config': { has: ['openKeystrata', 'loadConfig'], file: 'open-keystrata.js' },
  };
  for (const [name, { has, file }] of Object.entries(ENTRIES)) {
    it(`issue 13 §1: ${name} loads from require and import with its exports`, () => {
      const commonJs = JSON.parse(
        runNode('commonjs', `const m = require(${JSON.stringify(name)}); console.log(JSON.stringify({ file: require.resolve(${JSON.stringify(name)}), keys: Object.keys(m) }));`),
      ) as { file: string; keys: string[] };
      const esm = JSON.parse(
        runNode('module', `const m = await import(${JSON.stringify(name)}); console.log(JSON.stringify({ file: import.meta.resolve(${JSON.stringify(name)}), keys: Object.keys(m) }));`),
      ) as { file: string; keys: string[] };
      expect(commonJs.file.endsWith(`/dist/cjs/${file}`)).toBe(true);
      expect(esm.file.endsWith(`/dist/${file}`)).toBe(true);
      expect(commonJs.keys).toEqual(expect.arrayContaining([...has]));
      expect(esm.keys).toEqual(expect.arrayContaining([...has]));
    });
  }

  it('issue 13 §1: @keystrata/core exports no adapter internals and no test doubles', () => {
    const keys = JSON.parse(runNode('module', `const m = await import('@keystrata/core'); console.log(JSON.stringify(Object.keys(m)));`)) as string[];
    const internals = [
      'RecordEncryptor',
      'resolveSegment',
      'assertSegmentPolicy',
      'AsyncMutex',
      'KeyCache',
      'KeyLeases',
      'SecretKey',
      'gcmSeal',
      'kwpWrap',
      'sealValue',
      'encodeEnvelope',
      'SQL_SCHEMA',
      'SoftwareRootKey',
      'MemoryKeyStore',
    ];
    expect(keys.filter((key) => internals.includes(key))).toEqual([]);
  });
});
