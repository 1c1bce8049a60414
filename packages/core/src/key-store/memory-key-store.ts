import type { DekCount, DekQuery, KeyStore } from './key-store.js';
import type { AuditRecord, CmkRecord, DekChain, DekRecord, JobRecord, KekRecord, KeyState, LeaseRecord, PolicyRecord, TombstoneRecord } from './records.js';
import { KeystrataError } from '../errors/keystrata-error.js';
import { AsyncMutex } from './async-mutex.js';
import { KEY_CHANGE_PAGE, type KeyChange, type KeyChangeEntry, type KeyChangePage } from './key-changes.js';

const key = (keyring: string, version: number): string => `${keyring}\u0000${version}`;

/**
 * An in-memory {@link KeyStore} for unit tests and experiments. Not durable.
 *
 * @example
 * ```ts
 * const keyStore = new MemoryKeyStore();
 * ```
 */
export class MemoryKeyStore implements KeyStore {
  readonly #cmks = new Map<string, CmkRecord>();
  readonly #keks = new Map<string, KekRecord>();
  readonly #deks = new Map<string, DekRecord>();
  readonly #audit: AuditRecord[] = [];
  readonly #jobs = new Map<string, JobRecord>();
  readonly #tombstones = new Map<string, TombstoneRecord>();
  readonly #leases = new Map<string, LeaseRecord>();
  readonly #policies = new Map<string, PolicyRecord>();
  readonly #dekUses = new Map<string, number>();
  readonly #mutex = new AsyncMutex();
  readonly #changes: KeyChange[] = [];
  queryCount = 0;

  #logChange(entry: KeyChangeEntry): void {
    this.#changes.push({ seq: this.#changes.length + 1, ...entry });
  }
  /** See {@link KeyStore.listKeyChanges}. */
  async listKeyChanges(afterSeq?: number): Promise<KeyChangePage> {
    this.queryCount++;
    const latest = this.#changes.length;
    const at = (seq: number | undefined) => (seq === undefined || seq < 1 ? undefined : this.#changes[seq - 1]);
    const withAnchor = { anchor: at(afterSeq ?? latest) ?? null };
    if (afterSeq === undefined) return { changes: [], latest, truncated: false, ...withAnchor };
    const changes = this.#changes.slice(afterSeq);
    return changes.length > KEY_CHANGE_PAGE ? { changes: [], latest, truncated: true, ...withAnchor } : { changes, latest, truncated: false, ...withAnchor };
  }

  async migrate(): Promise<void> {}
  async close(): Promise<void> {}

  async listCmks(keyring?: string): Promise<CmkRecord[]> {
    this.queryCount++;
    return [...this.#cmks.values()].filter((c) => keyring === undefined || c.keyring === keyring).sort((a, b) => a.keyring.localeCompare(b.keyring) || a.version - b.version);
  }
  async insertCmk(r: CmkRecord): Promise<void> {
    this.queryCount++;
    if (this.#cmks.has(key(r.keyring, r.version))) throw new KeystrataError('ROTATION_IN_PROGRESS', `Another process wrote CMK ${r.keyring} v${r.version} at the same time.`);
    if (r.state === 'primary') this.#demote(this.#cmks, r.keyring, r.createdAt);
    this.#cmks.set(key(r.keyring, r.version), r);
  }
  async setCmkState(keyring: string, version: number, state: KeyState, at: string): Promise<void> {
    this.queryCount++;
    const r = this.#cmks.get(key(keyring, version));
    if (r) this.#cmks.set(key(keyring, version), { ...r, state, updatedAt: at });
    if (r) this.#logChange({ level: 'cmk', keyring, id: String(version), segment: '', state, at });
  }
  async listKeks(keyring?: string): Promise<KekRecord[]> {
    this.queryCount++;
    return [...this.#keks.values()].filter((k) => keyring === undefined || k.keyring === keyring).sort((a, b) => a.keyring.localeCompare(b.keyring) || a.version - b.version);
  }
  async insertKek(r: KekRecord): Promise<void> {
    this.queryCount++;
    if (this.#keks.has(key(r.keyring, r.version))) throw new KeystrataError('ROTATION_IN_PROGRESS', `Another process wrote KEK ${r.keyring} v${r.version} at the same time.`);
    if (r.state === 'primary') this.#demote(this.#keks, r.keyring, r.createdAt);
    this.#keks.set(key(r.keyring, r.version), r);
  }
  async updateKek(keyring: string, version: number, c: { state?: KeyState; wrapped?: string; cmkVersion?: number; at: string; binding?: string }): Promise<void> {
    this.queryCount++;
    const r = this.#keks.get(key(keyring, version));
    if (r)
      this.#keks.set(key(keyring, version), {
        ...r,
        state: c.state ?? r.state,
        wrapped: c.wrapped ?? r.wrapped,
        cmkVersion: c.cmkVersion ?? r.cmkVersion,
        binding: c.binding ?? r.binding ?? '',
        updatedAt: c.at,
      });
    if (r && (c.state !== undefined || c.wrapped === '')) this.#logChange({ level: 'kek', keyring, id: String(version), segment: '', state: c.state ?? r.state, at: c.at });
  }
  #chain(dek: DekRecord): DekChain {
    const kek = this.#keks.get(key(dek.keyring, dek.kekVersion));
    return { dek, kek, cmk: kek && this.#cmks.get(key(kek.keyring, kek.cmkVersion)) };
  }
  async loadDekChains(ids: readonly string[]): Promise<DekChain[]> {
    this.queryCount++;
    return [...new Set(ids)].flatMap((id) => {
      const dek = this.#deks.get(id);
      return dek ? [this.#chain(dek)] : [];
    });
  }
  async loadLatestDekChains(keyring: string, segments: readonly string[]): Promise<DekChain[]> {
    this.queryCount++;
    const latest = new Map<string, DekRecord>();
    for (const d of this.#deks.values()) {
      if (d.keyring !== keyring || !segments.includes(d.segment)) continue;
      if ((latest.get(d.segment)?.version ?? 0) < d.version) latest.set(d.segment, d);
    }
    return [...latest.values()].map((d) => this.#chain(d));
  }
  async insertDek(r: DekRecord): Promise<boolean> {
    this.queryCount++;
    const clash = [...this.#deks.values()].some((d) => d.id === r.id || (d.keyring === r.keyring && d.segment === r.segment && d.version === r.version));
    if (!clash) this.#deks.set(r.id, r);
    return !clash;
  }
  async updateDek(id: string, c: { state?: KeyState; wrapped?: string; kekVersion?: number; at: string }): Promise<void> {
    this.queryCount++;
    const r = this.#deks.get(id);
    if (r) this.#deks.set(id, { ...r, state: c.state ?? r.state, wrapped: c.wrapped ?? r.wrapped, kekVersion: c.kekVersion ?? r.kekVersion, updatedAt: c.at });
    if (r && (c.state !== undefined || c.wrapped === '')) this.#logChange({ level: 'dek', keyring: r.keyring, id, segment: r.segment, state: c.state ?? r.state, at: c.at });
  }
  async replaceDekWrapping(id: string, expectedWrapped: string, c: { wrapped: string; kekVersion: number; at: string }): Promise<boolean> {
    this.queryCount++;
    const r = this.#deks.get(id);
    if (r === undefined || r.wrapped !== expectedWrapped || !['primary', 'enabled', 'disabled'].includes(r.state)) return false;
    this.#deks.set(id, { ...r, wrapped: c.wrapped, kekVersion: c.kekVersion, updatedAt: c.at });
    return true;
  }
  async listDeks(q: DekQuery): Promise<DekRecord[]> {
    this.queryCount++;
    return [...this.#deks.values()]
      .filter((d) => (q.keyring === undefined || d.keyring === q.keyring) && (q.segment === undefined || d.segment === q.segment))
      .filter((d) => (q.states === undefined || q.states.includes(d.state)) && (q.kekVersionBelow === undefined || d.kekVersion < q.kekVersionBelow))
      .filter((d) => q.afterId === undefined || d.id > q.afterId)
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .slice(0, q.limit);
  }
  async countDeks(): Promise<DekCount[]> {
    this.queryCount++;
    const counts = new Map<string, DekCount>();
    for (const d of this.#deks.values()) {
      const k = `${d.keyring}\u0000${d.state}`;
      counts.set(k, { keyring: d.keyring, state: d.state, count: (counts.get(k)?.count ?? 0) + 1 });
    }
    return [...counts.values()];
  }
  async appendAudit(entry: Omit<AuditRecord, 'seq' | 'prevMac' | 'mac'>, seal: (seq: number, prevMac: string) => Promise<string>): Promise<AuditRecord> {
    this.queryCount++;
    return this.#mutex.run(async () => {
      const last = this.#audit.at(-1);
      const seq = (last?.seq ?? 0) + 1;
      const prevMac = last?.mac ?? '';
      const record = { ...entry, seq, prevMac, mac: await seal(seq, prevMac) };
      this.#audit.push(record);
      return record;
    });
  }
  async listAudit(afterSeq = 0, limit = 10_000): Promise<AuditRecord[]> {
    this.queryCount++;
    return this.#audit.filter((a) => a.seq > afterSeq).slice(0, limit);
  }
  async getJob(id: string): Promise<JobRecord | undefined> {
    this.queryCount++;
    return this.#jobs.get(id);
  }
  async putJob(job: JobRecord): Promise<void> {
    this.queryCount++;
    this.#jobs.set(job.id, job);
  }

  // tombstones
  async putTombstone(t: TombstoneRecord): Promise<void> {
    this.queryCount++;
    const id = `${t.kind}\u0000${t.keyring}\u0000${t.id}`;
    if (this.#tombstones.has(id)) return;
    this.#tombstones.set(id, t);
    this.#logChange({ level: t.kind, keyring: t.keyring, id: t.id, segment: t.segment, state: 'destroyed', at: t.destroyedAt });
  }
  async listTombstones(keyring?: string): Promise<TombstoneRecord[]> {
    this.queryCount++;
    return [...this.#tombstones.values()]
      .filter((t) => keyring === undefined || t.keyring === keyring)
      .sort((a, b) => a.destroyedAt.localeCompare(b.destroyedAt) || a.kind.localeCompare(b.kind) || a.keyring.localeCompare(b.keyring) || a.id.localeCompare(b.id));
  }
  async markTombstonesDurable(keyring: string, destroyedUpTo: string, at: string): Promise<number> {
    this.queryCount++;
    let marked = 0;
    for (const [id, t] of this.#tombstones) {
      if (t.keyring !== keyring || t.durableAt !== null || t.destroyedAt > destroyedUpTo) continue;
      this.#tombstones.set(id, { ...t, durableAt: at });
      marked++;
    }
    return marked;
  }
  async reopenTombstone(kind: TombstoneRecord['kind'], keyring: string, id: string, destroyedAt: string): Promise<void> {
    this.queryCount++;
    const key = `${kind}\u0000${keyring}\u0000${id}`;
    const t = this.#tombstones.get(key);
    if (t === undefined) return;
    this.#tombstones.set(key, { ...t, destroyedAt, durableAt: null });
    this.#logChange({ level: kind, keyring, id, segment: t.segment, state: 'destroyed', at: destroyedAt });
  }
  async purgeErased(_mode: 'quick' | 'full'): Promise<string> {
    return 'memory: nothing persisted';
  }
  #demote<T extends { keyring: string; state: KeyState; updatedAt: string }>(records: Map<string, T>, keyring: string, at: string): void {
    for (const [k, r] of records) if (r.keyring === keyring && r.state === 'primary') records.set(k, { ...r, state: 'enabled', updatedAt: at });
  }
  // leases
  async acquireLease(lease: LeaseRecord, at: string): Promise<boolean> {
    this.queryCount++;
    const held = this.#leases.get(lease.name);
    if (held !== undefined && held.expiresAt >= at && held.holder !== lease.holder) return false;
    this.#leases.set(lease.name, lease);
    return true;
  }
  async getLease(name: string): Promise<LeaseRecord | undefined> {
    this.queryCount++;
    return this.#leases.get(name);
  }
  async releaseLease(name: string, holder: string): Promise<void> {
    this.queryCount++;
    if (this.#leases.get(name)?.holder === holder) this.#leases.delete(name);
  }
  async setPrimaryCmk(keyring: string, version: number, at: string): Promise<void> {
    this.queryCount++;
    const target = this.#cmks.get(key(keyring, version));
    if (target === undefined) throw new KeystrataError('KEY_NOT_FOUND', `CMK ${keyring} v${version} does not exist; nothing was changed.`);
    this.#demote(this.#cmks, keyring, at);
    this.#cmks.set(key(keyring, version), { ...target, state: 'primary', updatedAt: at });
    this.#logChange({ level: 'cmk', keyring, id: String(version), segment: '', state: 'primary', at });
  }
  // rotation policies
  async getPolicy(keyring: string): Promise<PolicyRecord | undefined> {
    this.queryCount++;
    return this.#policies.get(keyring);
  }
  async putPolicy(record: PolicyRecord): Promise<void> {
    this.queryCount++;
    this.#policies.set(record.keyring, record);
  }
  async reserveDekUses(requests: ReadonlyArray<{ readonly dekId: string; readonly count: number }>): Promise<Map<string, number>> {
    this.queryCount++;
    const totals = new Map<string, number>();
    for (const { dekId, count } of requests) {
      const total = (this.#dekUses.get(dekId) ?? 0) + count;
      this.#dekUses.set(dekId, total);
      totals.set(dekId, total);
    }
    return totals;
  }
  async loadDekUses(ids: readonly string[]): Promise<Map<string, number>> {
    this.queryCount++;
    return new Map(ids.flatMap((id) => (this.#dekUses.has(id) ? [[id, this.#dekUses.get(id)!] as const] : [])));
  }
  async listJobs(kind: string): Promise<JobRecord[]> {
    this.queryCount++;
    return [...this.#jobs.values()].filter((j) => j.kind === kind).sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}
