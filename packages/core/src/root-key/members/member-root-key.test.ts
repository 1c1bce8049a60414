import { describe, expect, it } from 'vitest';
import { KeystrataError } from '../../errors/keystrata-error.js';
import { SoftwareRootKey } from '../software-root-key.js';
import type { RootKey } from '../root-key.js';
import { decodeMemberCopies } from './member-copies.js';
import { MemberRootKey } from './member-root-key.js';

/** A SoftwareRootKey that fails every call with `failWith` while it is set (a unit-test stand-in for a lost device). */
function faulty(): { rootKey: RootKey; failWith: string | undefined } {
  const inner = new SoftwareRootKey();
  const control = { failWith: undefined as string | undefined, rootKey: undefined as unknown as RootKey };
  control.rootKey = new Proxy(inner, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function' || property === 'close') return value;
      return (...args: unknown[]) => {
        if (control.failWith !== undefined) return Promise.reject(new KeystrataError(control.failWith as 'HSM_UNAVAILABLE', 'failing on purpose'));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return control;
}

async function twoMembers(kind: 'cloned' | 'independent') {
  const a = faulty();
  const b = faulty();
  const root = MemberRootKey.create({
    kind,
    members: [
      { name: 'a', rootKey: a.rootKey },
      { name: 'b', rootKey: b.rootKey },
    ],
    probeIntervalMs: 3_600_000,
  });
  const events: string[] = [];
  root.watchMembers((e) => events.push(`${e.member}:${e.from}->${e.to}`));
  return { a, b, root, events };
}

describe('MemberRootKey routing (unit, software members)', () => {
  it('issue 14 §balance: cold unwraps are spread over both independent members, each unwrapping its own copy', async () => {
    const { root } = await twoMembers('independent');
    const cmk = await root.createCmk('cmk/v1');
    const wrapped = await root.generateWrappedKek(cmk);
    expect(decodeMemberCopies(wrapped).map((c) => c.member)).toEqual(['a', 'b']);
    const first = await root.unwrapKek(cmk, wrapped);
    for (let i = 0; i < 40; i++) {
      const kek = await root.unwrapKek(cmk, wrapped);
      expect(kek.exposeSecretBytes().equals(first.exposeSecretBytes())).toBe(true);
      kek.destroy();
    }
    const calls = root.stats.members!.map((m) => m.calls);
    expect(Math.min(...calls)).toBeGreaterThan(15);
  });

  it('issue 14 §failover: HSM_UNAVAILABLE moves the operation to the other member and marks the first unhealthy; it rejoins after a probe', async () => {
    const { a, root, events } = await twoMembers('independent');
    const cmk = await root.createCmk('cmk/v1');
    const wrapped = await root.generateWrappedKek(cmk);
    a.failWith = 'HSM_UNAVAILABLE';
    for (let i = 0; i < 6; i++) (await root.unwrapKek(cmk, wrapped)).destroy();
    expect(root.stats.members!.map((m) => m.state)).toEqual(['unhealthy', 'healthy']);
    await root.probe();
    expect(root.stats.members![0]!.state).toBe('unhealthy');
    a.failWith = undefined;
    await root.probe();
    expect(events).toEqual(['a:healthy->unhealthy', 'a:unhealthy->healthy']);
  });

  it.each(['CIPHERTEXT_TAMPERED', 'KEY_DISABLED', 'HSM_OPERATION_FAILED'])('issue 14 §failover: %s is not a failover reason: it fails as with one root, and no other member is tried', async (code) => {
    const { a, b, root } = await twoMembers('cloned');
    const cmk = await root.createCmk('cmk/v1');
    const wrapped = await root.generateWrappedKek(cmk);
    a.failWith = code;
    b.failWith = code;
    await expect(root.unwrapKek(cmk, wrapped)).rejects.toMatchObject({ code });
    expect(root.stats.members!.map((m) => [m.state, m.failovers])).toEqual([
      ['healthy', 0],
      ['healthy', 0],
    ]);
  });

  it('issue 14 §refused: a wrong PIN marks the member refused; the probe never brings it back', async () => {
    const { a, root } = await twoMembers('independent');
    const cmk = await root.createCmk('cmk/v1');
    const wrapped = await root.generateWrappedKek(cmk);
    a.failWith = 'HSM_PIN_INCORRECT';
    for (let i = 0; i < 4; i++) (await root.unwrapKek(cmk, wrapped)).destroy();
    a.failWith = undefined;
    await root.probe();
    expect(root.stats.members!.map((m) => [m.state, m.reason ?? ''])).toEqual([
      ['refused', 'HSM_PIN_INCORRECT'],
      ['healthy', ''],
    ]);
  });

  it('issue 14 §all-down: with every member out the operation fails closed with HSM_UNAVAILABLE', async () => {
    const { a, b, root } = await twoMembers('independent');
    const cmk = await root.createCmk('cmk/v1');
    const wrapped = await root.generateWrappedKek(cmk);
    a.failWith = 'HSM_UNAVAILABLE';
    b.failWith = 'HSM_UNAVAILABLE';
    await expect(root.unwrapKek(cmk, wrapped)).rejects.toMatchObject({ code: 'HSM_UNAVAILABLE' });
    await expect(root.generateWrappedKek(cmk)).rejects.toMatchObject({ code: 'HSM_UNAVAILABLE' });
    await expect(root.destroyCmk(cmk)).rejects.toMatchObject({ code: 'HSM_UNAVAILABLE' });
  });

  it('issue 14 §rewrap: an independent member that is out loses its copy at a CMK rotation (never keeps one under the old CMK)', async () => {
    const { b, root } = await twoMembers('independent');
    const from = await root.createCmk('cmk/v1');
    const wrapped = await root.generateWrappedKek(from);
    const to = await root.createCmk('cmk/v2');
    b.failWith = 'HSM_UNAVAILABLE';
    const rewrapped = await root.rewrapKek(from, to, wrapped);
    expect(decodeMemberCopies(rewrapped).map((c) => c.member)).toEqual(['a']);
    (await root.unwrapKek(to, rewrapped)).destroy();
  });

  it('issue 14 §options: a root of members refuses bad options by name', () => {
    const rootKey = new SoftwareRootKey();
    const codeOf = (run: () => unknown) => {
      try {
        run();
        return 'none';
      } catch (error) {
        return (error as KeystrataError).code;
      }
    };
    expect(codeOf(() => MemberRootKey.create({ kind: 'mirrored' as 'cloned', members: [{ name: 'a', rootKey }] }))).toBe('CONFIG_INVALID');
    expect(codeOf(() => MemberRootKey.create({ kind: 'cloned', members: [] }))).toBe('CONFIG_INVALID');
    expect(codeOf(() => MemberRootKey.create({ kind: 'cloned', members: [{ name: 'a b', rootKey }] }))).toBe('CONFIG_INVALID');
    expect(
      codeOf(() =>
        MemberRootKey.create({
          kind: 'cloned',
          members: [
            { name: 'a', rootKey },
            { name: 'a', rootKey },
          ],
        }),
      ),
    ).toBe('CONFIG_INVALID');
    expect(codeOf(() => MemberRootKey.create({ kind: 'independent', members: [{ name: 'a', rootKey }], plainCopyMember: 'z' }))).toBe('CONFIG_INVALID');
  });
});
