import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs helper of the core tests (SoftHSM2 members, each with its own token directory and library copy)
import { createMemberToken } from '../../core/test/members/member-tokens.mjs';
import { memberConfig, type MemberToken } from './member-config.js';
import { keystrata } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'keystrata-cli-members-'));
const tokens: Record<string, MemberToken> = {};
const member = (name: string, pinFile?: string) => memberConfig(tokens, name, pinFile);
const writeMembers = (members: unknown[]) =>
  writeFileSync(join(dir, 'keystrata.config.json'), JSON.stringify({ rootKey: { kind: 'independent', members }, keyStore: { url: 'sqlite:keys.db' } }, null, 2));
const ok = (args: string[], input = '') => {
  const r = keystrata(dir, args, input);
  expect(r.status, `keystrata ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
const json = (args: string[]) => JSON.parse(ok([...args, '--json'])) as Record<string, unknown> & Array<Record<string, unknown>>;

describe('keystrata hsm members / add-member / remove-member over rootKey.members (issue 14)', () => {
  beforeAll(() => {
    for (const name of ['a', 'b', 'c']) {
      tokens[name] = createMemberToken(name) as MemberToken;
      writeFileSync(join(dir, `${name}.pin`), tokens[name]!.pin);
    }
    writeFileSync(join(dir, 'wrong.pin'), 'not-the-pin');
    writeMembers([member('a'), member('b')]);
    ok(['init']);
  });

  it('issue 14 §cli: a config with rootKey.members works as one root; status and hsm members show each member', () => {
    const envelope = ok(['encrypt', '--context', 'Patient.ssn#p1'], '123-45-6789').trim();
    expect(ok(['decrypt', '--context', 'Patient.ssn#p1'], envelope).trim()).toBe('123-45-6789');
    expect(ok(['status'])).toMatch(/member a +healthy .*\n.*member b +healthy/);
    const members = json(['hsm', 'members']);
    expect(members.map((m) => [m.name, m.state, m.missingCmks, m.missingCopies, m.auditKey])).toEqual([
      ['a', 'healthy', [], 0, true],
      ['b', 'healthy', [], 0, true],
    ]);
  });

  it('issue 14 §add-member: a member added to the config is reported missing its CMK and copies until `hsm add-member`, which is safe to rerun; `hsm remove-member` deletes its copies', () => {
    writeMembers([member('a'), member('b'), member('c')]);
    expect(json(['hsm', 'members']).find((m) => m.name === 'c')).toMatchObject({ state: 'healthy', missingCmks: ['default v1'], missingCopies: 1 });
    expect(ok(['hsm', 'members'])).toMatch(/c .*MISSING CMK default v1.*1 KEK copies missing/);
    expect(json(['hsm', 'add-member', 'c'])).toMatchObject({ member: 'c', cmksCreated: 1, copiesAdded: 1, copiesPresent: 0 });
    expect(json(['hsm', 'add-member', 'c'])).toMatchObject({ cmksCreated: 0, copiesAdded: 0, copiesPresent: 1 });
    expect(json(['hsm', 'members']).find((m) => m.name === 'c')).toMatchObject({ missingCmks: [], missingCopies: 0 });
    expect(json(['hsm', 'remove-member', 'c'])).toEqual({ member: 'c', copiesRemoved: 1 });
    expect(json(['audit', 'list']).filter((r) => r.event === 'member').length).toBeGreaterThanOrEqual(3);
  });

  it('issue 14 §refused: a member with the wrong PIN is reported by hsm members and status, and the root works without it', () => {
    writeMembers([member('a'), member('b'), member('c', 'wrong.pin')]);
    expect(json(['hsm', 'members']).find((m) => m.name === 'c')).toMatchObject({ state: 'refused', reason: 'HSM_PIN_INCORRECT', calls: 0 });
    expect(ok(['status'])).toMatch(/member c +refused +\(HSM_PIN_INCORRECT\)/);
    const envelope = ok(['encrypt', '--context', 'Patient.ssn#p2', '--segment', 'other'], 'x').trim();
    expect(ok(['decrypt', '--context', 'Patient.ssn#p2', '--segment', 'other'], envelope).trim()).toBe('x');
  });

  it('issue 14 §config: a PIN pasted into rootKey.members[].pin is refused naming the option, never the value', () => {
    writeFileSync(join(dir, 'keystrata.config.json'), JSON.stringify({ rootKey: { kind: 'independent', members: [{ name: 'a', tokenLabel: 'x', pin: '9876-secret' }] } }));
    const r = keystrata(dir, ['status']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/CONFIG_INVALID.*rootKey\.members\.pin must be/);
    expect(r.stderr).not.toContain('9876-secret');
  });
});
