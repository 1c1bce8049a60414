import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { createDatabase } from '@keystrata/testing';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { asCommonJsProgram, createApp, npmEnvironment, packAll, readmeBlock, readmeExample, REPO_ROOT, run, type Published } from './apps.js';

// Issue 13 §2: the packages as a user gets them. Every published package is packed with
// `pnpm pack`; fresh npm projects OUTSIDE the workspace install the tarballs plus their ORM (no
// workspace links); each runs its README's quick start (the `<!-- example -->` block, unchanged
// except that a CommonJS app wraps it in `async function main()`), against a SoftHSM2 token made
// by the installed CLI's `keystrata hsm init-dev`, and the raw database is checked for ciphertext.

const VERSIONS = {
  typescript: 'typescript@5.9.3',
  typesNode: '@types/node@^20.19.0',
  prisma: 'prisma@7.10.1',
  prismaClient: '@prisma/client@7.10.0',
  prismaSqlite: '@prisma/adapter-better-sqlite3@7.10.0',
  betterSqlite3: 'better-sqlite3@12.6.2',
  typeorm: 'typeorm@1.1.1',
  reflectMetadata: 'reflect-metadata@0.2.2',
  pg: 'pg@8.16.3',
  mongoose: 'mongoose@9.12.1',
};

/** NestJS's generated tsconfig.json (nest new), which compiles to CommonJS with legacy decorators. */
const NEST_TSCONFIG = {
  compilerOptions: {
    module: 'commonjs',
    declaration: true,
    removeComments: true,
    emitDecoratorMetadata: true,
    experimentalDecorators: true,
    allowSyntheticDefaultImports: true,
    target: 'ES2023',
    sourceMap: true,
    outDir: './dist',
    baseUrl: './',
    incremental: true,
    skipLibCheck: true,
    strictNullChecks: true,
    forceConsistentCasingInFileNames: true,
    noImplicitAny: false,
    strictBindCallApply: false,
    noFallthroughCasesInSwitch: false,
  },
  include: ['src'],
};

let root = '';
let tarballs: Record<Published, string>;
const apps = { prisma: '', typeorm: '', mongoose: '' };

interface Token {
  readonly env: NodeJS.ProcessEnv;
}

function binPath(appDir: string): string {
  return `${join(appDir, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`;
}

/** `keystrata hsm init-dev` of the CLI installed in the Prisma app, in `dir`: a token of its own, as the app's env. */
async function initDevToken(dir: string): Promise<Token> {
  const cli = join(apps.prisma, 'node_modules', '.bin', 'keystrata');
  const env = { ...npmEnvironment(), SOFTHSM2_CONF: undefined };
  const { stdout } = await run(cli, ['hsm', 'init-dev', '--json'], { cwd: dir, env });
  const result = JSON.parse(stdout) as { tokenLabel: string; module: string; softhsm2Conf: string; pinFile: string };
  return {
    env: {
      SOFTHSM2_CONF: result.softhsm2Conf,
      KEYSTRATA_PKCS11_MODULE: result.module,
      KEYSTRATA_TOKEN_LABEL: result.tokenLabel,
      KEYSTRATA_HSM_PIN: readFileSync(result.pinFile, 'utf8').trim(),
    },
  };
}

/** Runs `code` with the app's own Node modules (its better-sqlite3, pg, mongodb) and returns its JSON output. */
async function inApp(appDir: string, code: string, env: NodeJS.ProcessEnv = {}): Promise<unknown> {
  const { stdout } = await run(process.execPath, ['--input-type=commonjs', '--eval', code], { cwd: appDir, env: { ...process.env, ...env } });
  return JSON.parse(stdout);
}

function logged(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line !== '');
}

beforeAll(async () => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'keystrata-install-')));
  // The apps must not resolve anything through the workspace's node_modules.
  expect(relative(REPO_ROOT, root).startsWith('..')).toBe(true);
  tarballs = await packAll(join(root, 'tarballs'));
  apps.prisma = join(root, 'prisma-app');
  apps.typeorm = join(root, 'typeorm-app');
  apps.mongoose = join(root, 'mongoose-app');
  await Promise.all([
    createApp(
      apps.prisma,
      { name: 'prisma-app', type: 'module' },
      [tarballs.core, tarballs.native, tarballs.prisma, tarballs.cli, VERSIONS.prisma, VERSIONS.prismaClient, VERSIONS.prismaSqlite, VERSIONS.betterSqlite3, VERSIONS.typescript, VERSIONS.typesNode],
      // Issue 16: the Prisma app (and its CLI) builds the optional native addon; the other two leave it unbuilt and fall back to node:crypto.
      ['pkcs11js', 'better-sqlite3', '@keystrata/native'],
    ),
    createApp(
      apps.typeorm,
      { name: 'typeorm-app' },
      [tarballs.core, tarballs.native, tarballs.typeorm, VERSIONS.typeorm, VERSIONS.reflectMetadata, VERSIONS.pg, VERSIONS.typescript, VERSIONS.typesNode],
      ['pkcs11js'],
    ),
    createApp(apps.mongoose, { name: 'mongoose-app' }, [tarballs.core, tarballs.native, tarballs.mongoose, VERSIONS.mongoose, VERSIONS.typescript, VERSIONS.typesNode], ['pkcs11js']),
  ]);
});

let failed = false;
afterEach((context) => {
  if (context.task.result?.state === 'fail') failed = true;
});

afterAll(() => {
  if (root === '') return;
  // After a failure (or with KEYSTRATA_KEEP_INSTALL_APPS=1) the apps stay for inspection; they hold dev tokens only.
  if (failed || process.env.KEYSTRATA_KEEP_INSTALL_APPS === '1') console.log(`install-as-user apps kept in ${root}`);
  else rmSync(root, { recursive: true, force: true });
});

describe('installed as a user does (npm, packed tarballs, outside the workspace)', () => {
  it('issue 13 §2 (d): `npx keystrata hsm init-dev && npx keystrata init`, then the CLI README session', async () => {
    const dir = join(apps.prisma, 'cli-session');
    mkdirSync(dir);
    const env: NodeJS.ProcessEnv = { ...npmEnvironment(), SOFTHSM2_CONF: undefined };
    // The CLI README's install section: a local install runs through npx.
    await run('bash', ['-euo', 'pipefail', '-c', 'npx --no-install keystrata hsm init-dev && npx --no-install keystrata init'], { cwd: dir, env });
    // The README example session, with the project's node_modules/.bin on PATH as npx and npm scripts set it.
    const session = await run('bash', ['-euo', 'pipefail', '-c', readmeExample('cli', 'sh')], { cwd: dir, env: { ...env, PATH: binPath(apps.prisma) } });
    expect(session.stdout).toContain('123-45-6789');
    expect(session.stdout).toMatch(/Audit trail intact: \d+ record/);
    const stored = readFileSync(join(dir, 'ssn.txt'), 'utf8');
    expect(stored).toMatch(/^ks1\./);
    expect(stored).not.toContain('123-45-6789');
    // The key store holds wrapped keys only: no plaintext value anywhere in the SQLite file.
    expect(readFileSync(join(dir, '.keystrata', 'keys.db')).includes('123-45-6789')).toBe(false);
    // Issue 16: built on install here (npm rebuild), so the CLI seals in native batches and says so.
    const status = await run('bash', ['-euo', 'pipefail', '-c', 'keystrata status'], { cwd: dir, env: { ...env, PATH: binPath(apps.prisma) } });
    expect(status.stdout).toContain('field encryption: AES-256-GCM in native batches (@keystrata/native)');
  });

  it('issue 13 §2 (a): a Prisma app (ESM, generator + extension, SQLite) runs the README example', async () => {
    const dir = apps.prisma;
    const token = await initDevToken(dir);
    const schema = readmeBlock('prisma', 'prisma');
    mkdirSync(join(dir, 'prisma'));
    writeFileSync(join(dir, 'prisma', 'schema.prisma'), schema.includes('datasource') ? schema : `datasource db {\n  provider = "sqlite"\n}\n\n${schema}`);
    await run('npx', ['--no-install', 'prisma', 'generate', '--schema', 'prisma/schema.prisma'], {
      cwd: dir,
      env: { ...npmEnvironment(), PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
    });
    mkdirSync(join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'src', 'main.ts'), readmeExample('prisma', 'ts'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify(
        {
          // Prisma 7's generated client imports its own files as `.ts`: tsc rewrites them to `.js` (Prisma README).
          compilerOptions: {
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'ES2023',
            strict: true,
            skipLibCheck: true,
            rewriteRelativeImportExtensions: true,
            outDir: 'dist',
            rootDir: 'src',
          },
          include: ['src'],
        },
        null,
        2,
      ),
    );
    await run('npx', ['--no-install', 'tsc', '-p', 'tsconfig.json'], { cwd: dir, env: npmEnvironment() });
    // The table from the user's migration of the README model (Prisma's schema engine is not available here).
    const database = join(dir, 'app.db');
    await inApp(
      dir,
      `const Database = require('better-sqlite3'); const db = new Database(${JSON.stringify(database)});
      db.exec('CREATE TABLE "Patient" ("id" TEXT NOT NULL PRIMARY KEY, "tenantId" TEXT NOT NULL, "ssn" TEXT NOT NULL, "email" TEXT NOT NULL, "emailIndex" TEXT); CREATE UNIQUE INDEX "Patient_emailIndex_key" ON "Patient"("emailIndex");');
      db.close(); console.log('{}');`,
    );
    const { stdout } = await run(process.execPath, ['dist/main.js'], { cwd: dir, env: { ...process.env, ...token.env, KEYSTRATA_EXAMPLE_DB: database } });
    expect(logged(stdout)).toEqual(['123-45-6789', 'QUERY_UNSUPPORTED', 'true 123-45-6789', '1 ann@example.com']);
    const rows = (await inApp(
      dir,
      `const Database = require('better-sqlite3'); const db = new Database(${JSON.stringify(database)}, { readonly: true });
      console.log(JSON.stringify(db.prepare('SELECT * FROM "Patient"').all())); db.close();`,
    )) as Array<{ ssn: string; email: string; emailIndex: string }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.ssn).toMatch(/^ks1\./);
    expect(rows[0]!.email).toMatch(/^ks1\./);
    expect(JSON.stringify(rows)).not.toMatch(/123-45-6789|ann@example\.com/);
  });

  it('issue 13 §2 (b): a TypeORM app compiled to CommonJS the way NestJS compiles runs the README quick start on PostgreSQL', async () => {
    const dir = apps.typeorm;
    const token = await initDevToken(dir);
    const databaseUrl = await createDatabase(inject('postgresUrl'), 'keystrata_install_typeorm');
    mkdirSync(join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'src', 'main.ts'), asCommonJsProgram(readmeExample('typeorm', 'ts')));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(NEST_TSCONFIG, null, 2));
    await run('npx', ['--no-install', 'tsc', '-p', 'tsconfig.json'], { cwd: dir, env: npmEnvironment() });
    expect(readFileSync(join(dir, 'dist', 'main.js'), 'utf8')).toContain('require("@keystrata/typeorm")');
    const { stdout, stderr } = await run(process.execPath, ['dist/main.js'], { cwd: dir, env: { ...process.env, ...token.env, DATABASE_URL: databaseUrl } });
    // Issue 16: the optional addon was installed with --ignore-scripts and never built here: the app runs on node:crypto and says so once.
    expect(stderr.match(/Keystrata uses node:crypto for field encryption/g)).toHaveLength(1);
    expect(logged(stdout)).toEqual(['123-45-6789', 'true', '123-45-6789', '1']);
    const rows = (await inApp(
      dir,
      `const { Client } = require('pg'); (async () => { const client = new Client({ connectionString: process.env.DATABASE_URL }); await client.connect();
      const { rows } = await client.query('SELECT * FROM patient'); await client.end(); console.log(JSON.stringify(rows)); })().catch((e) => { console.error(e); process.exit(1); });`,
      { DATABASE_URL: databaseUrl },
    )) as Array<{ ssn: string; email: string }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.ssn).toMatch(/^ks1\./);
    expect(JSON.stringify(rows)).not.toMatch(/123-45-6789|ada@example\.com/);
  });

  it('issue 13 §2 (c): a Mongoose app (CommonJS) runs the README quick start against FerretDB, and the CLI verifies its MongoDB key store', async () => {
    const dir = apps.mongoose;
    const token = await initDevToken(dir);
    const database = `ks_install_${process.pid}`;
    mkdirSync(join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'src', 'main.ts'), asCommonJsProgram(readmeExample('mongoose', 'ts')));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify(
        {
          compilerOptions: { module: 'commonjs', target: 'ES2022', strict: true, esModuleInterop: true, skipLibCheck: true, outDir: 'dist', rootDir: 'src' },
          include: ['src'],
        },
        null,
        2,
      ),
    );
    await run('npx', ['--no-install', 'tsc', '-p', 'tsconfig.json'], { cwd: dir, env: npmEnvironment() });
    expect(readFileSync(join(dir, 'dist', 'main.js'), 'utf8')).toContain('require("@keystrata/mongoose")');
    const env = { MONGODB_URI: inject('mongodbUri'), MONGODB_DB: database };
    const { stdout } = await run(process.execPath, ['dist/main.js'], { cwd: dir, env: { ...process.env, ...token.env, ...env } });
    expect(logged(stdout)).toEqual(['123-45-6789', 'true', 'QUERY_UNSUPPORTED', 'ada@example.com', '1']);
    // The CLI on the app's MongoDB key store: it loads the app's own @keystrata/mongoose and mongoose.
    const configFile = join(dir, 'keystrata.config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(configFile, JSON.stringify({ ...config, keyStore: { url: `${inject('mongodbUri').replace(/\/?$/, '/')}${database}` } }, null, 2));
    const audit = await run(join(apps.prisma, 'node_modules', '.bin', 'keystrata'), ['audit', 'verify'], { cwd: dir, env: { ...npmEnvironment(), SOFTHSM2_CONF: undefined } });
    expect(audit.stdout).toMatch(/Audit trail intact: [1-9]\d* record/);
    const stored = (await inApp(
      dir,
      `const mongoose = require('mongoose'); (async () => {
      const connection = await mongoose.createConnection(process.env.MONGODB_URI, { dbName: process.env.MONGODB_DB }).asPromise();
      const documents = await connection.db.collection('patients').find().toArray();
      const deks = await connection.db.collection('keystrata_dek').countDocuments();
      await connection.dropDatabase(); await connection.close(); console.log(JSON.stringify({ documents, deks }));
    })().catch((e) => { console.error(e); process.exit(1); });`,
      env,
    )) as { documents: Array<{ ssn: string }>; deks: number };
    expect(stored.documents).toHaveLength(1);
    expect(stored.documents[0]!.ssn).toMatch(/^ks1\./);
    expect(JSON.stringify(stored.documents).toLowerCase()).not.toMatch(/123-45-6789|ada@example\.com/);
    expect(stored.deks).toBeGreaterThan(0);
  });
});
