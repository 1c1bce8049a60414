import type {} from '@keystrata/testing';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { codeOf, ENVELOPE, expectSealedAtRest, newId, rawPatient } from './support/checks.js';
import { openStack, type Stack } from './support/stack.js';

const require = createRequire(import.meta.url);
/** The built `keystrata` binary of @keystrata/cli (its package.json `bin`). */
const BIN = join(dirname(require.resolve('@keystrata/cli/package.json')), 'dist', 'bin.js');

interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `keystrata` as its own process, in an empty directory (no keystrata.config.json), pointed by
 * environment variables at the run's SoftHSM2 token and at the stack's SQLite file as key store.
 */
function keystrata(file: string, args: string[], input: string): CliResult {
  const token = inject('softhsm');
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.KEYSTRATA_KEYRING; // the adapters use the hierarchy's default keyring
  Object.assign(env, {
    KEYSTRATA_PKCS11_MODULE: token.module,
    KEYSTRATA_TOKEN_LABEL: token.tokenLabel,
    KEYSTRATA_PIN_ENV: 'INTEROP_TEST_HSM_PIN', // the name of the variable holding the PIN
    INTEROP_TEST_HSM_PIN: token.pin,
    SOFTHSM2_CONF: token.conf,
    KEYSTRATA_DATABASE_URL: `sqlite:${file}`,
  });
  const cwd = mkdtempSync(join(tmpdir(), 'keystrata-interop-cli-'));
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, input, encoding: 'utf8', env });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function ok(file: string, args: string[], input: string): string {
  const r = keystrata(file, args, input);
  expect(r.status, `keystrata ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The error code a failed CLI run prints (`error: <CODE>: …` on stderr), or 'none'. */
function cliCode(file: string, args: string[], input: string): string {
  const r = keystrata(file, args, input);
  if (r.status === 0) return 'none';
  return /^error: ([A-Z_]+)/m.exec(r.stderr)?.[1] ?? `unparsed: ${r.stderr}`;
}

describe('the keystrata CLI and the adapters on one SQLite file and one SoftHSM2 token', () => {
  let s: Stack;
  beforeEach(async () => {
    s = await openStack('sqlite');
  });
  afterEach(async () => {
    await s.close();
  });

  it('keystrata decrypt opens what Prisma wrote, with the context Patient.<field>#<id> and segment tenantId:<tenant>', async () => {
    const p = await s.prisma.patient.create({ data: { tenantId: 'north', ssn: 'canary-ssn-cli', email: 'canary-cli@example.test' } });
    await expectSealedAtRest(s.raw, 1);
    const row = await rawPatient(s.raw, p.id);

    const segment = ['--segment', 'tenantId:north'];
    expect(ok(s.location, ['decrypt', '--context', `Patient.ssn#${p.id}`, ...segment], String(row.ssn))).toBe('canary-ssn-cli');
    expect(ok(s.location, ['decrypt', '--context', `Patient.email#${p.id}`, ...segment], `${String(row.email)}\n`)).toBe('canary-cli@example.test');
    // The CLI checks the same bindings: another record, field or segment does not open the value.
    expect(cliCode(s.location, ['decrypt', '--context', 'Patient.ssn#someone-else', ...segment], String(row.ssn))).toBe('CIPHERTEXT_TAMPERED');
    expect(cliCode(s.location, ['decrypt', '--context', `Patient.email#${p.id}`, ...segment], String(row.ssn))).toBe('CIPHERTEXT_TAMPERED');
    expect(cliCode(s.location, ['decrypt', '--context', `Patient.ssn#${p.id}`, '--segment', 'tenantId:south'], String(row.ssn))).toBe('CIPHERTEXT_TAMPERED');
  });

  it('a value keystrata encrypt sealed for Patient.<field>#<id> in tenantId:<tenant>, written raw into the row, reads through TypeORM', async () => {
    const id = newId('cli');
    const seal = (field: string, recordId: string, text: string) => ok(s.location, ['encrypt', '--context', `Patient.${field}#${recordId}`, '--segment', 'tenantId:south'], text).trim();
    const ssn = seal('ssn', id, 'canary-ssn-from-cli');
    const email = seal('email', id, 'canary-email-from-cli@example.test');
    expect(ssn).toMatch(ENVELOPE);
    await s.raw.run('INSERT INTO "Patient" (id, "tenantId", ssn, email, "emailIndex") VALUES (?, ?, ?, ?, NULL)', [id, 'south', ssn, email]);
    await expectSealedAtRest(s.raw, 1);

    expect(await s.typeorm.repo.findOneBy({ id })).toMatchObject({ id, tenantId: 'south', ssn: 'canary-ssn-from-cli', email: 'canary-email-from-cli@example.test' });
    expect(await s.prisma.patient.findUnique({ where: { id } })).toMatchObject({ ssn: 'canary-ssn-from-cli', email: 'canary-email-from-cli@example.test' });

    // Sealed for another record id, the same text is refused by TypeORM.
    await s.raw.run('UPDATE "Patient" SET ssn = ? WHERE id = ?', [seal('ssn', 'someone-else', 'canary-ssn-from-cli'), id]);
    expect(await codeOf(s.typeorm.repo.findOneByOrFail({ id }))).toBe('CIPHERTEXT_TAMPERED');
  });
});
