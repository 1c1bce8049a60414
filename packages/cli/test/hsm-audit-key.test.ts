import { existsSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs helper of the core tests (SoftHSM2 members, each with its own token directory and library copy)
import { createMemberToken } from '../../core/test/members/member-tokens.mjs';
import { memberConfig, type MemberToken } from './member-config.js';
import { keystrata } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'keystrata-cli-audit-key-'));
const tokens: Record<string, MemberToken> = {};
const member = (name: string) => memberConfig(tokens, name);
const writeMembers = (names: string[]) =>
  writeFileSync(join(dir, 'keystrata.config.json'), JSON.stringify({ rootKey: { kind: 'independent', members: names.map(member) }, keyStore: { url: 'sqlite:keys.db' } }, null, 2));
const ok = (args: string[], input = '') => {
  const r = keystrata(dir, args, input);
  expect(r.status, `keystrata ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
const json = (args: string[]) => JSON.parse(ok([...args, '--json'])) as Record<string, unknown> & Array<Record<string, unknown>>;
/** Takes a member's token away for real: its token directory disappears (each CLI run is a new process that finds it gone). */
const takeAway = (name: string) => renameSync(tokens[name]!.tokens, `${tokens[name]!.tokens}-away`);

afterAll(() => {
  for (const token of Object.values(tokens)) if (existsSync(`${token.tokens}-away`)) renameSync(`${token.tokens}-away`, token.tokens);
});

describe('keystrata hsm add-member gives a late member the audit key (issue 14)', () => {
  it('issue 14 §audit key: a member added with `keystrata hsm add-member` after the trail started receives the audit key; with both original members gone, writes, a rotation and `audit verify` succeed through it alone', () => {
    for (const name of ['a', 'b', 'c']) {
      tokens[name] = createMemberToken(name) as MemberToken;
      writeFileSync(join(dir, `${name}.pin`), tokens[name]!.pin);
    }
    writeMembers(['a', 'b']);
    ok(['init']);
    const envelope = ok(['encrypt', '--context', 'Patient.ssn#p1'], '123-45-6789').trim();
    writeMembers(['a', 'b', 'c']);
    expect(json(['hsm', 'add-member', 'c'])).toMatchObject({ member: 'c', cmksCreated: 1, auditKey: 'imported' });
    expect(ok(['hsm', 'add-member', 'c'])).toMatch(/member c: .*audit key held/);
    expect(json(['hsm', 'members']).map((m) => [m.name, m.auditKey, m.auditKeyCopy])).toEqual([
      ['a', true, 'stored'],
      ['b', true, 'stored'],
      ['c', true, 'stored'],
    ]);

    takeAway('a');
    takeAway('b');
    const fresh = ok(['encrypt', '--context', 'Patient.ssn#p2', '--segment', 'after'], 'written-after').trim();
    expect(ok(['decrypt', '--context', 'Patient.ssn#p2', '--segment', 'after'], fresh).trim()).toBe('written-after');
    expect(ok(['decrypt', '--context', 'Patient.ssn#p1'], envelope).trim()).toBe('123-45-6789');
    ok(['rotate', 'kek']);
    expect(json(['hsm', 'members']).map((m) => [m.name, m.state])).toEqual([
      ['a', 'unhealthy'],
      ['b', 'unhealthy'],
      ['c', 'healthy'],
    ]);
    const verified = json(['audit', 'verify']);
    expect(verified.records).toBeGreaterThan(5);
    const records = json(['audit', 'list', '--limit', '1000']);
    expect(records.at(-1)).toMatchObject({ seq: verified.headSeq });
  }, 60_000);
});
