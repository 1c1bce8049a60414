import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyHierarchy, KeystrataError, type FieldContext, type ReencryptionHook } from '../src/index.js';
import { envelopeDekId } from '../src/adapter.js';
import { killAll, runRotator, startWriter } from './processes/children.js';
import { sqliteStack } from './stacks.js';

const ctx = (recordId: string, segment = 's1'): FieldContext => ({ model: 'Patient', field: 'ssn', recordId, segment });
const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'none',
    (e) => (KeystrataError.isInstance(e) ? e.code : `untyped: ${String(e)}`),
  );

/** The same CAS hook as test/processes/child-common.mjs, in process (for the conflict test). */
function tableHook(db: Database.Database, beforeWrite?: () => void): { hook: ReencryptionHook; counter: { rewritten: number } } {
  const counter = { rewritten: 0 };
  return {
    counter,
    hook: {
      async scan({ segment, cursor, limit }) {
        const rows = db.prepare('SELECT id, ssn FROM patients WHERE segment = ? AND id > ? ORDER BY id LIMIT ?').all(segment, cursor ?? '', limit) as Array<{ id: string; ssn: string }>;
        return { records: rows.map((r) => ({ id: r.id, fields: [{ field: 'ssn', ciphertext: r.ssn, context: ctx(r.id, segment) }] })), cursor: rows.length < limit ? null : rows.at(-1)!.id };
      },
      async write(updates) {
        beforeWrite?.();
        const update = db.prepare('UPDATE patients SET ssn = ? WHERE id = ? AND ssn = ?');
        let written = 0;
        for (const u of updates) written += update.run(u.fields[0]!.next, u.id, u.fields[0]!.previous).changes;
        counter.rewritten += written;
        return written;
      },
    },
  };
}

describe('DEK rotation never loses data (SoftHSM2 + SQLite, real processes)', () => {
  let stack: Awaited<ReturnType<typeof sqliteStack>>;
  let h: KeyHierarchy;
  let db: Database.Database;
  let prefix: string;

  beforeEach(async () => {
    stack = await sqliteStack();
    prefix = `rot-dek-${Math.random().toString(36).slice(2)}`;
    h = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix });
    await h.provision();
    db = new Database(stack.file);
    db.pragma('busy_timeout = 10000');
    db.exec('CREATE TABLE patients (id TEXT PRIMARY KEY, segment TEXT NOT NULL, ssn TEXT NOT NULL)');
  });
  afterEach(async () => {
    killAll();
    db.close();
    h.clearCache();
    await stack.close();
  });
  afterAll(() => killAll());

  async function seed(count: number, segment = 's1'): Promise<string[]> {
    const ids = Array.from({ length: count }, (_, i) => `r${String(i).padStart(5, '0')}`);
    const sealed = await h.encryptValues(ids.map((id) => ({ value: `seed-${id}`, context: ctx(id, segment) })));
    const insert = db.prepare('INSERT INTO patients VALUES (?, ?, ?)');
    db.transaction(() => {
      for (const [i, id] of ids.entries()) insert.run(id, segment, sealed[i]!);
    })();
    return ids;
  }

  it('issue 11 §3a: writer processes with warm caches keep writing while another process rotates with oldKeys destroy; no row is lost', async () => {
    const ids = await seed(1200);
    const config = { db: stack.file, prefix, cache: { maxAgeMs: 400, writeRecheckMs: 200 } };
    const writers = await Promise.all([0, 1].map((k) => startWriter({ ...config, name: `w${k}`, ids: ids.filter((_, i) => i % 2 === k) })));
    const { hook, counter } = tableHook(db);
    const result = await h.rotateDek({ segment: 's1', hook, batchSize: 100, oldKeys: 'destroy' });
    await new Promise((resolve) => setTimeout(resolve, 300)); // writers keep going on the new DEK
    const reports = await Promise.all(writers.map((w) => w.stop()));
    expect(reports.map((r) => r.errors)).toEqual([[], []]);
    expect(reports.every((r) => r.writes > 0)).toBe(true);
    expect(result.reencrypted).toBe(counter.rewritten);
    expect(result.verificationPasses).toBeGreaterThanOrEqual(1);
    const latest: Record<string, string> = Object.assign({}, ...reports.map((r) => r.latest));
    const rows = db.prepare("SELECT id, ssn FROM patients WHERE segment = 's1' ORDER BY id").all() as Array<{ id: string; ssn: string }>;
    const reader = await KeyHierarchy.create({ rootKey: stack.rootKey, keyStore: stack.keyStore, cmkLabelPrefix: prefix });
    const values = await reader.decryptValuesSettled(rows.map((r) => ({ ciphertext: r.ssn, context: ctx(r.id) })));
    const lost = rows.flatMap((r, i) => (values[i]!.ok ? [] : [`${r.id}: ${values[i]!.ok ? '' : values[i]!.error.code}`]));
    expect(lost).toEqual([]);
    expect(rows.filter((r) => envelopeDekId(r.ssn) !== result.dekId).map((r) => r.id)).toEqual([]);
    expect(rows.filter((r, i) => (values[i] as { value?: unknown }).value !== (latest[r.id] ?? `seed-${r.id}`)).map((r) => r.id)).toEqual([]);
  }, 60_000);

  it('issue 11 §3a: a record changed between scan and write (lost compare-and-swap) is re-read and re-encrypted, and counted once', async () => {
    const ids = await seed(30);
    // A newer value the application sealed before the switch, under the old DEK: it lands between the rotation's scan and its write.
    const newer = await h.encryptValue('canary-newer', ctx('r00007'));
    let raced = false;
    const { hook, counter } = tableHook(db, () => {
      if (raced) return;
      raced = true;
      db.prepare('UPDATE patients SET ssn = ? WHERE id = ?').run(newer, 'r00007');
    });
    const result = await h.rotateDek({ segment: 's1', hook, batchSize: 10, oldKeys: 'destroy' });
    expect(raced).toBe(true);
    expect(result.reencrypted).toBe(ids.length);
    expect(counter.rewritten).toBe(ids.length);
    const row = db.prepare('SELECT ssn FROM patients WHERE id = ?').get('r00007') as { ssn: string };
    expect(envelopeDekId(row.ssn)).toBe(result.dekId);
    h.clearCache();
    expect(await h.decryptValue(row.ssn, ctx('r00007'))).toBe('canary-newer');
    // The destroyed old DEK is a pending shred (a tombstone) until a shred epoch makes it durable.
    const oldDek = envelopeDekId(newer);
    expect((await stack.keyStore.listTombstones()).filter((t) => t.id === oldDek)).toMatchObject([{ kind: 'dek', durableAt: null }]);
    await h.completeShreds();
    expect((await stack.keyStore.listTombstones()).find((t) => t.id === oldDek)?.durableAt).toEqual(expect.any(String));
  });

  it('issue 11 §3a: the old DEK is kept while a row still references it (verification never comes clean)', async () => {
    await seed(5);
    const [oldRow] = db.prepare("SELECT ssn FROM patients WHERE id = 'r00000'").all() as Array<{ ssn: string }>;
    // A hook whose writes never land (every compare-and-swap lost): the rows stay on the old DEK.
    const { hook } = tableHook(db);
    const stuck: ReencryptionHook = { scan: hook.scan, write: async () => 0 };
    expect(await codeOf(h.rotateDek({ segment: 's1', hook: stuck, batchSize: 10, oldKeys: 'destroy' }))).toBe('KEY_IN_USE');
    h.clearCache();
    expect(await h.decryptValue(oldRow!.ssn, ctx('r00000'))).toBe('seed-r00000');
    // The rerun with a working hook resumes the same rotation and only then destroys the old DEK.
    const { hook: working } = tableHook(db);
    const result = await h.rotateDek({ segment: 's1', hook: working, batchSize: 10, oldKeys: 'destroy' });
    expect(result).toMatchObject({ resumed: true, version: 2, reencrypted: 5 });
    expect(await codeOf(h.decryptValue(oldRow!.ssn, ctx('r00000')))).toBe('KEY_DESTROYED');
  }, 60_000);

  it('issue 11 §3a: two processes rotating one 5,000-row segment at once: one wins, the other gets ROTATION_IN_PROGRESS, rows are re-encrypted once', async () => {
    const ids = await seed(5000);
    const goAt = Date.now() + 1500;
    const outcomes = await Promise.all([0, 1].map(() => runRotator({ db: stack.file, prefix, mode: 'dek', segment: 's1', goAt })));
    for (const o of outcomes) expect(o.exitCode, o.stderr).toBe(0);
    const winners = outcomes.filter((o) => o.answer?.ok);
    const losers = outcomes.filter((o) => !o.answer?.ok);
    expect(winners).toHaveLength(1);
    expect(losers.map((o) => o.answer?.error?.code)).toEqual(['ROTATION_IN_PROGRESS']);
    expect(winners[0]!.answer!.result).toMatchObject({ version: 2, reencrypted: ids.length });
    expect(winners[0]!.answer!.rewritten).toBe(ids.length);
    expect(losers[0]!.answer!.error!.message).toMatch(/segment "s1".*lease/);
    const deks = await stack.keyStore.listDeks({ segment: 's1', limit: 10 });
    expect(deks.map((d) => d.version).sort()).toEqual([1, 2]);
  }, 60_000);

  it('issue 11 §3a: a DEK rotation SIGKILLed mid-segment resumes on rerun, and only then destroys the old DEK; every row decrypts', async () => {
    const ids = await seed(1500);
    const killed = await runRotator({ db: stack.file, prefix, mode: 'dek', segment: 's1', oldKeys: 'destroy', killAt: { phase: 're-encrypt segment s1', done: 1000 } });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect((await stack.keyStore.listDeks({ segment: 's1', limit: 10 })).map((d) => `${d.version}:${d.state}`).sort()).toEqual(['1:enabled', '2:primary']);
    const rerun = await runRotator({ db: stack.file, prefix, mode: 'dek', segment: 's1', oldKeys: 'destroy' });
    expect(rerun.answer, rerun.stderr).toMatchObject({ ok: true, result: { resumed: true, version: 2, reencrypted: ids.length }, rewritten: 500 });
    expect((await stack.keyStore.listDeks({ segment: 's1', limit: 10 })).map((d) => `${d.version}:${d.state}`).sort()).toEqual(['1:destroyed', '2:primary']);
    const rows = db.prepare("SELECT id, ssn FROM patients WHERE segment = 's1' ORDER BY id").all() as Array<{ id: string; ssn: string }>;
    const values = await h.decryptValuesSettled(rows.map((r) => ({ ciphertext: r.ssn, context: ctx(r.id) })));
    expect(rows.filter((r, i) => !values[i]!.ok || (values[i] as { value: unknown }).value !== `seed-${r.id}`).map((r) => r.id)).toEqual([]);
  }, 60_000);
});
