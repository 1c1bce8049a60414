// Child process of test/members/member-faults.test.ts (issue 14 §faults): a root of two SoftHSM2
// members (MEMBERS_KIND cloned | independent) under concurrent cold reads, new-segment writes and a
// CMK (independent) or KEK (cloned) rotations (one in flight as the member goes, one while it is away), while members are taken away for real (token
// directory gone, module finalised under the library) and brought back. MEMBERS_SCENARIO
// `failover` takes one member away at a time; `all-down` takes both away, then brings one back.
// A native crash kills this process, not the test runner. Prints one JSON line.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyHierarchy, KeystrataError, SqlKeyStore, createSqliteDriver, openPkcs11Members, syncRootMember } from '../../dist/index.js';
import { unwrapDek } from '../../dist/key-wrap/dek-wrap.js';
import { bringBack, cloneMemberToken, createMemberToken, memberOptions, takeAway } from './member-tokens.mjs';

const kind = process.env.MEMBERS_KIND ?? 'independent';
const scenario = process.env.MEMBERS_SCENARIO ?? 'failover';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const dir = mkdtempSync(join(tmpdir(), 'keystrata-members-'));
const database = join(dir, 'keys.db');
const keyStore = new SqlKeyStore(await createSqliteDriver({ database }));
const open = (tokens) => openPkcs11Members({ kind, members: tokens.map((t) => memberOptions(t)), probeIntervalMs: 50 });

const a = createMemberToken('a');
// MEMBERS_COUNT SoftHSM2 members (default 2), plus MEMBERS_EXTRA: a JSON list of other members
// ({ name, module, tokenLabel, pin, moduleEnvironment, tokens: the directory to take away }), e.g.
// an NSS softoken as an independent member. The member list is data; the scenario is the same.
const count = Number(process.env.MEMBERS_COUNT ?? 2);
const extra = JSON.parse(process.env.MEMBERS_EXTRA ?? '[]');
let tokens = [a];
if (kind === 'cloned') {
  // Provision on A, then clone its token directory: B holds the same CMK and audit key objects.
  const first = await open([a]);
  const setup = await KeyHierarchy.create({ rootKey: first, keyStore });
  await setup.provision();
  await first.close();
  tokens = [a, cloneMemberToken(a, 'b')];
} else {
  tokens = [a, ...Array.from({ length: count - 1 }, (_, i) => createMemberToken(String.fromCharCode(98 + i))), ...extra];
}
const rootKey = await open(tokens);
const h = await KeyHierarchy.create({ rootKey, keyStore });
await h.provision();
const values = [];
for (let version = 1; version <= 3; version++) {
  if (version > 1) await h.rotateKek();
  for (let s = 0; s < 4; s++) {
    const context = { model: 'P', field: 'f', recordId: `r${version}-${s}`, segment: `v${version}-s${s}` };
    values.push({ ciphertext: await h.encryptValue(`canary-${version}-${s}`, context), context, expected: `canary-${version}-${s}` });
  }
}

const codes = {};
const note = (error) => {
  const key = KeystrataError.isInstance(error) ? error.code : `untyped:${String(error?.message ?? error).slice(0, 120)}`;
  codes[key] = (codes[key] ?? 0) + 1;
};
const counts = { reads: 0, writes: 0, rotations: 0, failed: 0, wrongValues: 0 };
const member = (name) => rootKey.stats.members.find((m) => m.name === name);
const waitFor = async (predicate, ms) => {
  const until = Date.now() + ms;
  while (!predicate() && Date.now() < until) await sleep(20);
  return predicate();
};
/** Independent: waits (bounded) until the rejoined member's background sync gave it a copy of every live KEK. */
const waitUntilSynced = async (name) => {
  if (kind !== 'independent') return true;
  const until = Date.now() + 8000;
  for (;;) {
    const keks = (await keyStore.listKeks()).filter((k) => k.state !== 'destroyed' && k.wrapped !== '');
    if (keks.every((k) => rootKey.copies(Buffer.from(k.wrapped, 'base64')).has(name))) return true;
    if (Date.now() > until) return false;
    await sleep(50);
  }
};
let running = true;
const readers = Array.from({ length: 3 }, async () => {
  while (running) {
    await sleep(1);
    const reader = await KeyHierarchy.create({ rootKey, keyStore });
    try {
      const batch = values.slice();
      const out = await reader.decryptValues(batch);
      out.forEach((value, i) => void (value !== batch[i].expected && counts.wrongValues++));
      counts.reads++;
    } catch (error) {
      counts.failed++;
      note(error);
    }
  }
});
const writer = (async () => {
  for (let n = 0; running; n++) {
    await sleep(5);
    const context = { model: 'P', field: 'f', recordId: `w${n}`, segment: `new-${n}` };
    try {
      const ciphertext = await h.encryptValue(`written-${n}`, context);
      values.push({ ciphertext, context, expected: `written-${n}` });
      counts.writes++;
    } catch (error) {
      counts.failed++;
      note(error);
    }
  }
})();
const rotate = async () => {
  try {
    if (kind === 'independent') await h.rotateCmk();
    else await h.rotateKek();
    counts.rotations++;
  } catch (error) {
    counts.failed++;
    note(error);
  }
};

const timeline = {};
if (scenario === 'failover') {
  // Each member in turn, last first: taken away under load, a rotation while it is away, brought back.
  for (const token of [...tokens].reverse()) {
    await sleep(300);
    // A rotation in flight when the member goes, and another one while it is away.
    const inFlight = rotate();
    await sleep(2);
    takeAway(token);
    await inFlight;
    await sleep(300);
    await rotate();
    await sleep(500);
    timeline[`${token.name}DownSeen`] = member(token.name).state;
    bringBack(token);
    timeline[`${token.name}Rejoined`] = await waitFor(() => member(token.name).state === 'healthy', 5000);
    timeline[`${token.name}Synced`] = await waitUntilSynced(token.name);
  }
  await sleep(200);
} else {
  await sleep(300);
  running = false;
  await Promise.all([...readers, writer]);
  for (const token of tokens) takeAway(token);
  const cold = await KeyHierarchy.create({ rootKey, keyStore });
  const downCodes = {};
  for (const attempt of [() => cold.decryptValues(values), () => cold.encryptValue('x', { model: 'P', field: 'f', recordId: 'down', segment: 'down-segment' })]) {
    try {
      await attempt();
      downCodes.none = (downCodes.none ?? 0) + 1;
    } catch (error) {
      const code = KeystrataError.isInstance(error) ? error.code : 'untyped';
      downCodes[code] = (downCodes[code] ?? 0) + 1;
    }
  }
  timeline.downCodes = downCodes;
  bringBack(tokens[0]);
  const until = Date.now() + 8000;
  let recovered = false;
  while (!recovered && Date.now() < until) {
    await sleep(50);
    cold.clearCache();
    recovered = await cold.decryptValues(values).then(
      (out) => out.every((value, i) => value === values[i].expected),
      () => false,
    );
  }
  timeline.recovered = recovered;
  for (const token of tokens.slice(1)) bringBack(token);
  timeline.bothHealthy = await waitFor(() => rootKey.stats.members.every((m) => m.state === 'healthy'), 5000);
}
running = false;
await Promise.all([...readers, writer]);

// Afterwards: copies lost while a member was away are restored; the trail verifies; values read.
let after = 'ok';
try {
  if (kind === 'independent') for (const t of tokens) await syncRootMember({ rootKey, keyStore, member: t.name });
  h.clearCache();
  const out = await h.decryptValues(values);
  if (out.some((value, i) => value !== values[i].expected)) after = 'wrong values';
  await h.verifyAudit();
} catch (error) {
  after = `failed: ${KeystrataError.isInstance(error) ? `${error.code} ${error.message.slice(0, 300)}` : String(error?.stack ?? error)}`;
}
const memberRecords = (await keyStore.listAudit(0, 100000)).filter((r) => r.event === 'member').map((r) => JSON.parse(r.details));

// The attacker's view: no KEK, DEK or audit key in plaintext (raw, hex or base64) in the key store, its WAL, or any token directory.
const secrets = [];
let keks = 0;
let deks = 0;
for (const kek of await keyStore.listKeks()) {
  if (kek.state === 'destroyed') continue;
  const cmk = (await keyStore.listCmks(kek.keyring)).find((c) => c.version === kek.cmkVersion);
  let key;
  try {
    key = await rootKey.unwrapKek({ label: cmk.hsmLabel, id: cmk.hsmId }, Buffer.from(kek.wrapped, 'base64'));
  } catch (error) {
    secrets.push(Buffer.from(`unreadable:${kek.version}:${error.code}`));
    continue;
  }
  const bytes = Buffer.from(key.exposeSecretBytes());
  key.destroy();
  secrets.push(bytes, Buffer.from(bytes.toString('hex')), Buffer.from(bytes.toString('base64')));
  keks++;
  // Every DEK under this KEK, unwrapped in process as the cache does, is searched for too.
  for (const dek of await keyStore.listDeks({ keyring: kek.keyring, limit: 100000 })) {
    if (dek.kekVersion !== kek.version || dek.wrapped === '') continue;
    const dekKey = unwrapDek(bytes, dek.wrapped, dek, { legacy: 'refuse' });
    const dekBytes = Buffer.from(dekKey.exposeSecretBytes());
    dekKey.destroy();
    secrets.push(dekBytes, Buffer.from(dekBytes.toString('hex')), Buffer.from(dekBytes.toString('base64')));
    deks++;
  }
}
// Independent: the audit key too, unwrapped from its stored copies (audit-key-copies row), must be nowhere in plaintext.
let auditKeyScanned = false;
const auditKeyCopies = await keyStore.getJob('audit-key-copies');
if (auditKeyCopies !== undefined) {
  const { cmk, wrapped } = JSON.parse(auditKeyCopies.data);
  const key = await rootKey.unwrapKek(cmk, Buffer.from(wrapped, 'base64'));
  const bytes = Buffer.from(key.exposeSecretBytes());
  key.destroy();
  secrets.push(bytes, Buffer.from(bytes.toString('hex')), Buffer.from(bytes.toString('base64')));
  auditKeyScanned = true;
}
const files = (path) => (statSync(path).isDirectory() ? readdirSync(path).flatMap((name) => files(join(path, name))) : [path]);
const leaks = [dir, ...tokens.map((t) => t.directory ?? t.tokens)].flatMap(files).filter((file) => {
  const content = readFileSync(file);
  return secrets.some((secret) => content.includes(secret));
});
const stats = rootKey.stats.members;
await h.close();
rmSync(dir, { recursive: true, force: true });
for (const t of tokens) if (t.directory) rmSync(t.directory, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ counts, codes, timeline, after, memberRecords, stats, leaks, keks, deks, auditKeyScanned })}\n`);
