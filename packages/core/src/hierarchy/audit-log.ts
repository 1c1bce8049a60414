import { randomBytes, timingSafeEqual } from 'node:crypto';
import { auditDigest } from '../audit/audit-chain.js';
import { keysWithoutGenerateRecord } from '../audit/audit-completeness.js';
import { AUDIT_KEY_SUBJECT, assertSameAuditKey, recordedAuditKey, recordedStoreId } from '../audit/audit-key-check.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import type { KeyStore } from '../key-store/key-store.js';
import type { AuditEvent, AuditRecord } from '../key-store/records.js';
import { keepsAuditKeyCopies } from '../root-key/members/member-audit-copies.js';
import type { AuditKeyIdentity, RootKey } from '../root-key/root-key.js';

/**
 * Result of a successful {@link AuditLog.verify}.
 *
 * @example
 * ```ts
 * const { records, headSeq, headMac }: AuditVerification = await hierarchy.verifyAudit(); // throws at the first fault
 * await saveOutsideTheDatabase({ headSeq, headMac }); // later: verifyAudit({ head: { seq: headSeq, mac: headMac } })
 * ```
 */
export interface AuditVerification {
  readonly records: number;
  /** Record these two outside the database to detect a truncated tail later. */
  readonly headSeq: number;
  readonly headMac: string;
}

/**
 * Options of {@link AuditLog.verify}.
 *
 * @example
 * ```ts
 * const saved = JSON.parse(await readFile('/backup/audit-head.json', 'utf8')); // { headSeq, headMac } of an earlier run
 * const options: AuditVerifyOptions = { head: { seq: saved.headSeq, mac: saved.headMac } };
 * await hierarchy.verifyAudit(options); // AUDIT_CHAIN_BROKEN if the trail was rewritten from that record on
 * ```
 */
export interface AuditVerifyOptions {
  /** A head saved elsewhere earlier (`headSeq`, `headMac` of an earlier verification): the trail must still contain it. */
  readonly head?: { readonly seq: number; readonly mac: string };
}

/** Identifiers only: never key bytes, PINs or plaintext. */
export type AuditDetails = Readonly<Record<string, string | number | boolean>>;

const broken = (seq: number, reason: string): KeystrataError => new KeystrataError('AUDIT_CHAIN_BROKEN', `Audit record ${seq}: ${reason}.`, { details: { seq } });

/**
 * What this process wrote to each key store's trail: its store id and the highest sequence number
 * it appended. `verify` in this process refuses a trail that lost those records (issue 11 §5).
 */
const writtenByThisProcess = new WeakMap<KeyStore, { storeId: string | undefined; highestSeq: number }>();

/** HSM objects that `generate` records of CMKs name, by subject (see keysWithoutGenerateRecord). */
type CmkObjects = Map<string, { ids: Set<string>; labels: Set<string> }>;

function noteCmkObject(objects: CmkObjects, record: AuditRecord): void {
  if (!record.subject.startsWith('cmk:')) return;
  let details: Record<string, unknown> = {};
  try {
    details = JSON.parse(record.details) as Record<string, unknown>;
  } catch {
    /* no details: nothing to compare */
  }
  const seen = objects.get(record.subject) ?? { ids: new Set<string>(), labels: new Set<string>() };
  if (typeof details.hsmId === 'string' && details.hsmId !== '') seen.ids.add(details.hsmId);
  if (typeof details.hsmLabel === 'string' && details.hsmLabel !== '') seen.labels.add(details.hsmLabel);
  objects.set(record.subject, seen);
}

/**
 * The tamper-evident audit trail: each record carries an HMAC-SHA256, computed inside the HSM, over
 * its fields and the previous record's MAC. Editing, deleting or reordering any record breaks it.
 * The trail starts with an `audit-key` record naming the HSM audit key (id and key check value);
 * the key is created there, explicitly, and every later use checks it is still that key.
 */
export class AuditLog {
  #keyChecked: Promise<void> | undefined;
  /** The audit key the trail recorded (undefined for a trail started before it was recorded). */
  #key: AuditKeyIdentity | undefined;
  /** The store id the trail's `audit-key` record names (undefined for a trail started before store ids). */
  #storeId: string | undefined;

  constructor(
    private readonly keyStore: KeyStore,
    private readonly rootKey: RootKey,
    private readonly actor: string,
  ) {}

  async #append(event: AuditEvent, subject: string, details: AuditDetails): Promise<AuditRecord> {
    const entry = { at: new Date().toISOString(), event, subject, actor: this.actor, details: JSON.stringify(details) };
    const storeId = this.#storeId;
    const appended = await this.keyStore.appendAudit(entry, async (seq, prevMac) => (await this.rootKey.auditMac(auditDigest(seq, prevMac, entry, storeId), this.#key)).toString('base64'));
    this.#noteWritten(appended.seq, storeId);
    return appended;
  }

  #noteWritten(seq: number, storeId: string | undefined): void {
    const written = writtenByThisProcess.get(this.keyStore);
    if (written === undefined || written.storeId !== storeId) writtenByThisProcess.set(this.keyStore, { storeId, highestSeq: seq });
    else written.highestSeq = Math.max(written.highestSeq, seq);
  }

  /**
   * Starts an empty trail with its `audit-key` record; false when another process started it first
   * (then nothing was written and the caller checks against that trail's key).
   */
  async #start(): Promise<boolean> {
    const identity = await this.#startingKey();
    // A random id naming this key store's trail: in the genesis record and in every record's MAC input.
    const storeId = randomBytes(16).toString('hex');
    const entry = {
      at: new Date().toISOString(),
      event: 'audit-key' as const,
      subject: AUDIT_KEY_SUBJECT,
      actor: this.actor,
      // `auditKeyCopies`: the copies row was stored before this record (so a later missing row is a deletion, not a legacy trail).
      details: JSON.stringify({ hsmId: identity.id, checkValue: identity.checkValue, storeId, ...((await keepsAuditKeyCopies(this.keyStore, identity.id)) ? { auditKeyCopies: true } : {}) }),
    };
    let raced = false;
    try {
      await this.keyStore.appendAudit(entry, async (seq, prevMac) => {
        if (seq !== 1) {
          raced = true;
          throw new KeystrataError('AUDIT_KEY_MISMATCH', 'Another process started this audit trail first.');
        }
        return (await this.rootKey.auditMac(auditDigest(seq, prevMac, entry, storeId), identity)).toString('base64');
      });
    } catch (error) {
      if (raced) return false;
      throw error;
    }
    this.#key = identity;
    this.#storeId = storeId;
    this.#noteWritten(1, storeId);
    return true;
  }

  /** The audit key of an empty trail: the token's (if another store already made it) or a new one. */
  async #startingKey(): Promise<AuditKeyIdentity> {
    const current = await this.#identity();
    if (current !== undefined) return current;
    try {
      return await this.rootKey.createAuditKey!(this.keyStore);
    } catch (error) {
      // Another process created it between the two calls.
      const raced = await this.#identity();
      if (raced === undefined) throw error;
      return raced;
    }
  }

  /** Whether the root key can name its audit key (RootKey implementations without it keep the old trail). */
  get #identifies(): boolean {
    return typeof this.rootKey.auditKeyIdentity === 'function' && typeof this.rootKey.createAuditKey === 'function';
  }

  #identity(keyId?: string): Promise<AuditKeyIdentity | undefined> {
    return this.rootKey.auditKeyIdentity!(keyId);
  }

  /** Once per log: starts the trail with its `audit-key` record, or checks the key is the recorded one. */
  #checkKey(): Promise<void> {
    if (!this.#identifies) return Promise.resolve();
    this.#keyChecked ??= (async () => {
      let [first] = await this.keyStore.listAudit(0, 1);
      if (first === undefined) {
        if (await this.#start()) return;
        [first] = await this.keyStore.listAudit(0, 1);
      }
      const recorded = recordedAuditKey(first);
      assertSameAuditKey(recorded, await this.#identity(recorded?.id));
      this.#key = recorded;
      this.#storeId = recordedStoreId(first);
    })().catch((error: unknown) => {
      this.#keyChecked = undefined;
      throw error;
    });
    return this.#keyChecked;
  }

  /** Appends a record; a failure propagates (lifecycle operations must not go unrecorded). */
  async record(event: AuditEvent, subject: string, details: AuditDetails = {}): Promise<AuditRecord> {
    await this.#checkKey();
    return this.#append(event, subject, details);
  }

  /** Appends a record where the caller is already failing with a more important error. */
  async recordQuietly(event: AuditEvent, subject: string, details: AuditDetails = {}): Promise<void> {
    await this.record(event, subject, details).catch(() => undefined);
  }

  /**
   * Whether this store was started by a version that binds every key it creates: its trail begins
   * with the `audit-key` record. Such a store never legitimately holds an unbound KEK or a legacy
   * DEK, whatever `legacyKeys` says; a DBA cannot undo this by editing a row, because the answer
   * comes from the MACed start of the trail. Fails closed: an empty trail, a first record that is
   * not record 1, or one whose MAC does not verify counts as bound-only; only a verified genesis
   * record written before bindings existed allows legacy keys.
   *
   * @example
   * ```ts
   * const legacy = (await audit.boundOnly()) ? 'refuse' : options.legacyKeys;
   * ```
   */
  async boundOnly(): Promise<boolean> {
    const [first] = await this.keyStore.listAudit(0, 1);
    if (first === undefined || first.seq !== 1 || first.prevMac !== '' || first.event === 'audit-key') return true;
    let expected: Buffer;
    try {
      expected = await this.rootKey.auditMac(auditDigest(first.seq, first.prevMac, first));
    } catch (error) {
      if (KeystrataError.isInstance(error, 'AUDIT_KEY_MISMATCH')) return true;
      throw error;
    }
    const actual = Buffer.from(first.mac, 'base64');
    return !(actual.length === expected.length && timingSafeEqual(actual, expected));
  }

  /**
   * Checks every record: consecutive sequence numbers, each `prevMac` equal to the previous
   * record's MAC, and each MAC recomputed by the HSM under the audit key the trail recorded
   * (`AUDIT_KEY_MISMATCH` otherwise). Then that the trail is whole: a `generate` record for every
   * CMK and KEK version in the key store (an emptied or truncated trail lacks them), naming the
   * CMK's own HSM object (another store's trail on the same token names others), and, with
   * `head`, the saved head still in place. In a process that appended to this store: the trail
   * still names the store id it wrote under and still holds the highest record it wrote (its
   * tail was not deleted). Throws `AUDIT_CHAIN_BROKEN` at the first fault.
   */
  async verify(options: AuditVerifyOptions = {}): Promise<AuditVerification> {
    const [first] = await this.keyStore.listAudit(0, 1);
    const recorded = recordedAuditKey(first);
    const storeId = recordedStoreId(first);
    if (first !== undefined && this.#identifies) assertSameAuditKey(recorded, await this.#identity(recorded?.id));
    const written = writtenByThisProcess.get(this.keyStore);
    const generated = new Set<string>();
    const cmkObjects: CmkObjects = new Map();
    let lastRestoreAt: string | undefined;
    let prev: AuditRecord | undefined;
    let count = 0;
    for (;;) {
      const page = await this.keyStore.listAudit(prev?.seq ?? 0, 1000);
      if (page.length === 0) break;
      for (const record of page) {
        if (record.seq !== (prev?.seq ?? 0) + 1) throw broken(record.seq, `expected sequence ${(prev?.seq ?? 0) + 1} (a record was deleted or reordered)`);
        if (record.prevMac !== (prev?.mac ?? '')) throw broken(record.seq, 'does not chain to the previous record');
        const expected = await this.rootKey.auditMac(auditDigest(record.seq, record.prevMac, record, storeId), recorded);
        const actual = Buffer.from(record.mac, 'base64');
        if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) throw broken(record.seq, 'its MAC does not match its contents (edited)');
        if (record.event === 'audit-key') {
          assertSameAuditKey(recorded ?? recordedAuditKey(record), recordedAuditKey(record));
          if (recordedStoreId(record) !== storeId) throw broken(record.seq, 'names another key store than the start of the trail');
        }
        if (record.event === 'generate') {
          generated.add(record.subject);
          noteCmkObject(cmkObjects, record);
        }
        if (record.event === 'restore') lastRestoreAt = record.at;
        prev = record;
        count++;
      }
    }
    const headSeq = prev?.seq ?? 0;
    const headMac = prev?.mac ?? '';
    if (options.head !== undefined) this.#checkHead(options.head, headSeq);
    if (options.head !== undefined && options.head.seq > 0) {
      const [saved] = await this.keyStore.listAudit(options.head.seq - 1, 1);
      if (saved?.seq !== options.head.seq || saved.mac !== options.head.mac) {
        throw broken(options.head.seq, 'differs from the head saved earlier (the trail was rewritten from this record on)');
      }
    }
    const missing = await keysWithoutGenerateRecord(this.keyStore, { generated, lastRestoreAt, cmkObjects });
    if (missing.length > 0) {
      throw new KeystrataError(
        'AUDIT_CHAIN_BROKEN',
        `The key store holds ${missing.length} key version(s) the audit trail never recorded as generated, or recorded with another HSM object (first: ${missing[0]}): the trail was ${count === 0 ? 'emptied' : 'truncated or replaced'}.`,
        {
          details: { seq: headSeq + 1, missing: missing.length },
        },
      );
    }
    if (written !== undefined && written.storeId !== storeId) {
      throw broken(1, "names another key store than the trail this process wrote to (the trail was replaced, e.g. by another store's trail)");
    }
    if (written !== undefined && headSeq < written.highestSeq) {
      throw broken(headSeq + 1, `the trail ends at record ${headSeq} but this process wrote record ${written.highestSeq} (its tail was deleted)`);
    }
    return { records: count, headSeq, headMac };
  }

  #checkHead(head: { readonly seq: number; readonly mac: string }, headSeq: number): void {
    if (!Number.isInteger(head.seq) || head.seq < 0 || typeof head.mac !== 'string') {
      throw new KeystrataError('CONFIG_INVALID', 'head must be { seq: a non-negative integer, mac: the base64 MAC printed by an earlier verify }.');
    }
    if (head.seq > headSeq) throw broken(headSeq + 1, `the trail ends at record ${headSeq} but the head saved earlier is record ${head.seq} (its tail was deleted)`);
  }
}
