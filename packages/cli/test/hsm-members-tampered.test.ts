import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs helper of the core tests (SoftHSM2 members, each with its own token directory and library copy)
import { createMemberToken } from '../../core/test/members/member-tokens.mjs';
import { memberConfig, type MemberToken } from './member-config.js';
import { keystrata } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'keystrata-cli-members-tampered-'));
const tokens: Record<string, MemberToken> = {};
const member = (name: string) => memberConfig(tokens, name);
const run = (args: string[]) => keystrata(dir, args, '');

describe('keystrata hsm members shows an edited or deleted audit-key-copies row (issue 14 review)', () => {
  it('issue 14 §audit key (review): as the attacker with SQL, a deleted audit-key-copies row shows as tampered in `hsm members`, and `hsm add-member` fails closed with KEYSTORE_TAMPERED', () => {
    for (const name of ['a', 'b', 'c']) {
      tokens[name] = createMemberToken(name) as MemberToken;
      writeFileSync(join(dir, `${name}.pin`), tokens[name]!.pin);
    }
    const writeMembers = (names: string[]) =>
      writeFileSync(join(dir, 'keystrata.config.json'), JSON.stringify({ rootKey: { kind: 'independent', members: names.map(member) }, keyStore: { url: 'sqlite:keys.db' } }, null, 2));
    writeMembers(['a', 'b']);
    expect(run(['init']).status).toBe(0);
    const db = new Database(join(dir, 'keys.db'));
    expect(db.prepare("DELETE FROM keystrata_job WHERE id = 'audit-key-copies'").run().changes).toBe(1);
    db.close();
    const members = run(['hsm', 'members']);
    expect(members.status).toBe(0);
    expect(members.stdout.split('\n').filter((line) => line.includes('EDITED or DELETED (KEYSTORE_TAMPERED)'))).toHaveLength(2);
    expect((JSON.parse(run(['hsm', 'members', '--json']).stdout) as Array<{ auditKeyCopy?: string }>).map((m) => m.auditKeyCopy)).toEqual(['tampered', 'tampered']);
    writeMembers(['a', 'b', 'c']);
    const added = run(['hsm', 'add-member', 'c']);
    expect(added.status).not.toBe(0);
    expect(added.stderr).toContain('KEYSTORE_TAMPERED');
  }, 60_000);
});
