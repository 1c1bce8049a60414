import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KeyHierarchy, KeystrataError, type FieldContext } from '../src/index.js';
import { killAll, runRotator, tokenObjects } from './processes/children.js';
import { postgresStack, sqliteStack } from './stacks.js';

const ctx: FieldContext = { model: 'Patient', field: 'ssn', recordId: 'r1', segment: 's1' };
const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'none',
    (e) => (KeystrataError.isInstance(e) ? e.code : `untyped: ${String(e)}`),
  );

type Stack = Awaited<ReturnType<typeof sqliteStack>>;

/** A fresh SQLite key store with a provisioned keyring, three KEK versions and one sealed value. */
async function preparedStore(): Promise<{ stack: Stack; h: KeyHierarchy; prefix: string; sealed: string }> {
  const stack = await sqliteStack();
  const prefix = `rot-cmk-${Math.random().toString(36).slice(2)}`;
  const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix });
  await h.provision();
  await h.rotateKek();
  await h.rotateKek();
  const sealed = await h.encryptValue('canary-cmk', ctx);
  return { stack, h, prefix, sealed };
}

/** The settled state a CMK or KEK rotation must always end in. */
async function expectSettled(stack: Stack, h: KeyHierarchy, prefix: string, sealed: string): Promise<void> {
  const cmks = await stack.keyStore.listCmks('default');
  const primaries = cmks.filter((c) => c.state === 'primary');
  expect(primaries).toHaveLength(1);
  const keks = await stack.keyStore.listKeks('default');
  expect(keks.filter((k) => k.state === 'primary')).toHaveLength(1);
  expect(keks.filter((k) => k.cmkVersion !== primaries[0]!.version).map((k) => k.version)).toEqual([]);
  await expect(h.verifyAudit()).resolves.toMatchObject({ records: expect.any(Number) });
  // Through a second PKCS#11 handle: every CMK object of this keyring is registered, once.
  const objects = tokenObjects(`${prefix}/`);
  const registered = cmks.filter((c) => c.state !== 'retired');
  expect(objects.map((o) => `${o.label}#${o.id}`).sort()).toEqual(registered.map((c) => `${c.hsmLabel}#${c.hsmId}`).sort());
  // Every CMK version that exists was audited as generated.
  const generated = new Set((await h.listAudit()).filter((r) => r.event === 'generate').map((r) => r.subject));
  for (const c of cmks) expect(generated.has(`cmk:default:v${c.version}`)).toBe(true);
  const reader = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix });
  expect(await reader.decryptValue(sealed, ctx)).toBe('canary-cmk');
}

describe('CMK and KEK rotation killed at any step (SoftHSM2 + SQLite, SIGKILLed child process)', () => {
  afterAll(() => killAll());

  const cmkSteps: Array<[string, number, number]> = [
    // [progress phase, done, expected CMK version after the rerun]
    ['lease taken', 0, 2],
    ['rotation intent saved', 0, 2],
    ['CMK created in the HSM', 0, 2],
    ['CMK generate audited', 0, 2],
    ['CMK registered', 0, 2],
    ['rewrap KEKs', 1, 2],
    ['rewrap KEKs', 2, 2],
    ['primary switched', 0, 2],
    ['rotation done', 0, 3],
  ];
  it.each(cmkSteps)(
    'issue 11 §3a: rotate cmk killed at "%s" (%i) resumes on rerun to one primary CMK, every KEK under it, audited, no orphan',
    async (phase, done, expectedVersion) => {
      const { stack, h, prefix, sealed } = await preparedStore();
      try {
        const killed = await runRotator({ db: stack.file, prefix, mode: 'cmk', killAt: { phase, done } });
        expect(killed.signal, killed.stderr).toBe('SIGKILL');
        const rerun = await runRotator({ db: stack.file, prefix, mode: 'cmk' });
        expect(rerun.answer, rerun.stderr).toMatchObject({ ok: true, result: { version: expectedVersion } });
        await expectSettled(stack, h, prefix, sealed);
        expect((await stack.keyStore.listCmks('default')).map((c) => c.version)).toEqual(expectedVersion === 2 ? [1, 2] : [1, 2, 3]);
        // Killed after the HSM object existed but before it was registered: the rerun adopted that object.
        const adopted = (await h.listAudit()).filter((r) => r.event === 'generate' && r.details.includes('"adopted":true'));
        expect(adopted.length).toBe(['CMK created in the HSM', 'CMK generate audited'].includes(phase) ? 1 : 0);
      } finally {
        killAll();
        await stack.close();
      }
    },
    30_000,
  );

  it.each([['rotation intent saved'], ['KEK registered']])(
    'issue 11 §3a: rotate kek killed at "%s" resumes the same version on rerun, one primary KEK',
    async (phase) => {
      const { stack, h, prefix, sealed } = await preparedStore();
      try {
        const killed = await runRotator({ db: stack.file, prefix, mode: 'kek', killAt: { phase, done: 0 } });
        expect(killed.signal, killed.stderr).toBe('SIGKILL');
        const rerun = await runRotator({ db: stack.file, prefix, mode: 'kek' });
        expect(rerun.answer, rerun.stderr).toMatchObject({ ok: true, result: { version: 4 } });
        expect((await stack.keyStore.listKeks('default')).map((k) => `${k.version}:${k.state}`)).toEqual(['1:enabled', '2:enabled', '3:enabled', '4:primary']);
        await expectSettled(stack, h, prefix, sealed);
      } finally {
        killAll();
        await stack.close();
      }
    },
    30_000,
  );
});

describe.each([
  ['SQLite', sqliteStack],
  ['PostgreSQL', postgresStack],
] as const)('one primary CMK/KEK per keyring, enforced by the %s key store; rotation leases', (_name, makeStack) => {
  let stack: Awaited<ReturnType<typeof makeStack>>;
  let h: KeyHierarchy;
  beforeEach(async () => {
    stack = await makeStack();
    h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: `rot-one-${Math.random().toString(36).slice(2)}` });
    await h.provision();
  });
  afterEach(async () => {
    await stack.close();
  });

  it('issue 11 §3a: a second primary CMK or KEK written behind the library is refused with a typed code, not KEYSTORE_UNAVAILABLE', async () => {
    const [cmk] = await stack.keyStore.listCmks('default');
    const at = new Date().toISOString();
    expect(await codeOf(stack.keyStore.insertCmk({ ...cmk!, version: 1 }))).toBe('ROTATION_IN_PROGRESS');
    await stack.keyStore.insertCmk({ ...cmk!, version: 7, state: 'enabled', createdAt: at, updatedAt: at });
    expect(await codeOf(stack.keyStore.setCmkState('default', 7, 'primary', at))).toBe('ROTATION_IN_PROGRESS');
    expect((await stack.keyStore.listCmks('default')).filter((c) => c.state === 'primary').map((c) => c.version)).toEqual([1]);
    await stack.keyStore.setPrimaryCmk('default', 7, at);
    expect((await stack.keyStore.listCmks('default')).map((c) => `${c.version}:${c.state}`)).toEqual(['1:enabled', '7:primary']);
    await h.rotateKek();
    expect(await codeOf(stack.keyStore.updateKek('default', 1, { state: 'primary', at }))).toBe('ROTATION_IN_PROGRESS');
    expect((await stack.keyStore.listKeks('default')).map((k) => `${k.version}:${k.state}`)).toEqual(['1:enabled', '2:primary']);
  });

  it('issue 11 §3a: a rotation while another holder has the keyring lease fails with ROTATION_IN_PROGRESS and creates nothing', async () => {
    const far = new Date(Date.now() + 60_000).toISOString();
    expect(await stack.keyStore.acquireLease({ name: 'keyring:default', holder: 'other-host:1:abcd', expiresAt: far }, new Date().toISOString())).toBe(true);
    const before = await stack.keyStore.listCmks('default');
    const error = await h.rotateCmk().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'ROTATION_IN_PROGRESS' });
    expect(String((error as Error).message)).toContain('other-host:1:abcd');
    expect(await codeOf(h.rotateKek())).toBe('ROTATION_IN_PROGRESS');
    expect(await stack.keyStore.listCmks('default')).toEqual(before);
    expect(await stack.keyStore.listKeks('default')).toHaveLength(1);
    // An expired lease is taken over.
    const past = new Date(Date.now() - 1000).toISOString();
    await stack.keyStore.releaseLease('keyring:default', 'other-host:1:abcd');
    await stack.keyStore.acquireLease({ name: 'keyring:default', holder: 'other-host:1:abcd', expiresAt: past }, past);
    await expect(h.rotateCmk()).resolves.toMatchObject({ version: 2 });
    expect(await stack.keyStore.getLease('keyring:default')).toBeUndefined();
  });
});

describe('two processes rotating the CMK at once, 8 races (SoftHSM2 + SQLite)', () => {
  let prepared: Awaited<ReturnType<typeof preparedStore>>;
  beforeAll(async () => {
    prepared = await preparedStore();
  });
  afterAll(async () => {
    killAll();
    await prepared?.stack.close();
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'issue 11 §3a: CMK race %i: exactly one process wins, the other gets ROTATION_IN_PROGRESS, no orphan CMK in the token',
    async (race) => {
      const { stack, h, prefix, sealed } = prepared;
      const goAt = Date.now() + 1200;
      const outcomes = await Promise.all([0, 1].map(() => runRotator({ db: stack.file, prefix, mode: 'cmk', goAt })));
      for (const o of outcomes) expect(o.exitCode, o.stderr).toBe(0);
      expect(outcomes.filter((o) => o.answer?.ok).map((o) => o.answer!.result!.version)).toEqual([race + 1]);
      expect(outcomes.filter((o) => !o.answer?.ok).map((o) => o.answer!.error!.code)).toEqual(['ROTATION_IN_PROGRESS']);
      await expectSettled(stack, h, prefix, sealed);
    },
    30_000,
  );
});

describe.each([
  ['SQLite', sqliteStack],
  ['PostgreSQL', postgresStack],
] as const)('a %s key store left with two primary CMKs by an older version', (_name, makeStack) => {
  it('issue 11 §3a: migrate keeps the newest primary and a rerun of rotate cmk settles every KEK under it', async () => {
    const stack = await makeStack();
    try {
      const prefix = `rot-legacy-${Math.random().toString(36).slice(2)}`;
      const h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix });
      await h.provision();
      const sealed = await h.encryptValue('canary-legacy', ctx);
      // The state the old code left: CMK v2 registered as primary next to v1, no KEK moved yet.
      const ref = await stack.rootKey.createCmk(`${prefix}/default/v2`);
      const at = new Date().toISOString();
      const raw =
        'url' in stack
          ? async (sql: string) => {
              const pg = (await import('pg')).default;
              const c = new pg.Client({ connectionString: stack.url });
              await c.connect();
              await c.query(sql);
              await c.end();
            }
          : async (sql: string) => {
              const Database = (await import('better-sqlite3')).default;
              const db = new Database((stack as { file: string }).file);
              db.exec(sql);
              db.close();
            };
      await raw('DROP INDEX keystrata_cmk_one_primary');
      await raw(`INSERT INTO keystrata_cmk VALUES ('default', 2, '${ref.label}', '${ref.id}', 'primary', '${at}', '${at}')`);
      await stack.keyStore.migrate();
      expect((await stack.keyStore.listCmks('default')).map((c) => `${c.version}:${c.state}`)).toEqual(['1:enabled', '2:primary']);
      const rotation = await h.rotateCmk();
      expect(rotation).toMatchObject({ version: 2, resumed: true, rewrapped: 1 });
      expect((await stack.keyStore.listKeks('default')).map((k) => k.cmkVersion)).toEqual([2]);
      h.clearCache();
      expect(await h.decryptValue(sealed, ctx)).toBe('canary-legacy');
    } finally {
      await stack.close();
    }
  });
});

describe('two processes provisioning a new keyring at once (SoftHSM2 + SQLite)', () => {
  afterAll(() => killAll());

  it('issue 11 §3a: both succeed, one creates the CMK and KEK, the other waits for the lease; one CMK object in the token', async () => {
    const stack = await sqliteStack();
    const prefix = `rot-prov-${Math.random().toString(36).slice(2)}`;
    try {
      const goAt = Date.now() + 1200;
      const outcomes = await Promise.all([0, 1].map(() => runRotator({ db: stack.file, prefix, mode: 'provision', goAt })));
      for (const o of outcomes) expect(o.answer, o.stderr).toMatchObject({ ok: true });
      expect(outcomes.map((o) => o.answer!.result!.createdCmk).sort()).toEqual([false, true]);
      expect((await stack.keyStore.listCmks('default')).map((c) => `${c.version}:${c.state}`)).toEqual(['1:primary']);
      expect((await stack.keyStore.listKeks('default')).map((k) => `${k.version}:${k.state}`)).toEqual(['1:primary']);
      expect(tokenObjects(`${prefix}/`)).toHaveLength(1);
    } finally {
      killAll();
      await stack.close();
    }
  }, 30_000);
});
