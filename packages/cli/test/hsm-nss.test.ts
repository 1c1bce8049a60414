import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createNssSoftoken } from '@keystrata/testing';
import { keystrata } from './run-cli.js';

// Issue 14 §portability: any PKCS#11 module works by configuration alone. NSS softoken needs its
// C_Initialize library parameters, which the config file carries as hsm.libraryParameters.

describe('keystrata CLI on NSS softoken (issue 14 §portability)', () => {
  it('issue 14 §portability: with hsm.module and hsm.libraryParameters in the config file, init, encrypt, decrypt, rotate cmk and audit verify run on NSS softoken, and the wrapped KEKs name CKM_AES_KEY_WRAP', () => {
    const nss = createNssSoftoken({ label: 'keystrata-nss-cli' });
    const dir = mkdtempSync(join(tmpdir(), 'keystrata-cli-nss-'));
    writeFileSync(join(dir, 'nss.pin'), nss.pin);
    writeFileSync(
      join(dir, 'keystrata.config.json'),
      JSON.stringify({ hsm: { module: nss.module, tokenLabel: nss.tokenLabel, pin: { file: 'nss.pin' }, libraryParameters: nss.libraryParameters }, keyStore: { url: 'sqlite:keys.db' } }),
    );
    const ok = (args: string[], input = ''): string => {
      const result = keystrata(dir, args, input);
      expect(result.status, `keystrata ${args.join(' ')}: ${result.stderr}`).toBe(0);
      return result.stdout;
    };
    ok(['init']);
    const stored = ok(['encrypt', '--context', 'Patient.ssn#p1', '--segment', 'tenant-a'], 'CANARY-nss');
    expect(ok(['decrypt', '--context', 'Patient.ssn#p1', '--segment', 'tenant-a'], stored)).toBe('CANARY-nss');
    ok(['rotate', 'cmk']);
    expect(ok(['decrypt', '--context', 'Patient.ssn#p1', '--segment', 'tenant-a'], stored)).toBe('CANARY-nss');
    ok(['audit', 'verify']);
    const db = new Database(join(dir, 'keys.db'), { readonly: true });
    const rows = db.prepare('SELECT wrapped FROM keystrata_kek').all() as Array<{ wrapped: string }>;
    db.close();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(Buffer.from(row.wrapped, 'base64').subarray(0, 7).toString('hex')).toBe('6b770100002109');
  });

  it('issue 14 §portability: an empty hsm.libraryParameters is refused by name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keystrata-cli-nss-bad-'));
    writeFileSync(join(dir, 'keystrata.config.json'), JSON.stringify({ hsm: { tokenLabel: 'x', libraryParameters: '' }, keyStore: { url: 'sqlite:keys.db' } }));
    const result = keystrata(dir, ['status']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('hsm.libraryParameters');
  });
});
