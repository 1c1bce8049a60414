import { KeystrataError } from '../errors/keystrata-error.js';
import type { DekCount, DekQuery, KeyStore } from './key-store.js';
import type { AuditRecord, CmkRecord, DekChain, DekRecord, JobRecord, KekRecord, KeyState, LeaseRecord, PolicyRecord, TombstoneRecord } from './records.js';
import type { SqlDriver, SqlExecutor } from './sql-driver.js';
import { auditFromRow, chainFromRow, cmkFromRow, dekFromRow, jobFromRow, kekFromRow, policyFromRow, tombstoneFromRow } from './sql-rows.js';
import { addColumn, DEK_CHAIN_SELECT, SQL_ADDED_COLUMNS, SQL_SCHEMA } from './sql-schema.js';
import { KEY_CHANGE_CHANNEL, parseKeyChangePayload, type KeyChangeEntry, type KeyChangeHandlers, type KeyChangePage, type KeyChangeSubscription } from './key-changes.js';
import { readKeyChanges, recordKeyChanges } from './sql-key-changes.js';
import { loadDekUsesSql, reserveDekUsesSql } from './sql-dek-uses.js';
import { chunks, IN_CHUNK, placeholders } from './sql-chunks.js';

/** True for a unique or primary-key violation (SQLite `SQLITE_CONSTRAINT_*`, PostgreSQL 23505). */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** The typed error for a key version that another process wrote at the same time. */
function versionClash(what: string, error: unknown): KeystrataError {
  return new KeystrataError('ROTATION_IN_PROGRESS', `Another process wrote ${what} at the same time (a concurrent rotation); nothing was changed. Run the command again once it finished.`, {
    cause: error,
  });
}

/**
 * The SQL {@link KeyStore}: one implementation for SQLite and PostgreSQL over a {@link SqlDriver}.
 *
 * @example
 * ```ts
 * const keyStore = new SqlKeyStore(await createSqliteDriver({ database: 'app.db' }));
 * await keyStore.migrate();
 * ```
 */
export class SqlKeyStore implements KeyStore {
  readonly #db: SqlDriver;
  #queries = 0;

  constructor(driver: SqlDriver) {
    this.#db = driver;
  }

  get queryCount(): number {
    return this.#queries;
  }

  async #all<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    this.#queries++;
    try {
      return await this.#db.all<T>(sql, params);
    } catch (error) {
      throw new KeystrataError('KEYSTORE_UNAVAILABLE', 'A key-store query failed.', { cause: error });
    }
  }

  async #run(sql: string, params: readonly unknown[] = []): Promise<number> {
    this.#queries++;
    try {
      return await this.#db.run(sql, params);
    } catch (error) {
      // A second primary CMK/KEK version, or a version another process inserted first: a clash, not an outage.
      if (isUniqueViolation(error)) throw versionClash('the same key version', error);
      throw new KeystrataError('KEYSTORE_UNAVAILABLE', 'A key-store statement failed.', { cause: error });
    }
  }

  async migrate(): Promise<void> {
    try {
      await this.#db.transaction(async (tx) => {
        for (const statement of SQL_SCHEMA) await tx.run(statement);
        for (const column of SQL_ADDED_COLUMNS) await addColumn(tx, this.#db.dialect, column);
      });
    } catch (error) {
      if (KeystrataError.isInstance(error)) throw error;
      // The driver's message can quote the database URL or SQL: only its class and code travel.
      throw new KeystrataError('KEYSTORE_UNAVAILABLE', 'Creating or upgrading the key-store tables failed.', { cause: error });
    }
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  async listCmks(keyring?: string): Promise<CmkRecord[]> {
    const where = keyring === undefined ? '' : ' WHERE keyring = ?';
    const rows = await this.#all(`SELECT * FROM keystrata_cmk${where} ORDER BY keyring, version`, keyring === undefined ? [] : [keyring]);
    return rows.map((row) => cmkFromRow(row));
  }

  async insertCmk(r: CmkRecord): Promise<void> {
    await this.#insertVersion('keystrata_cmk', `CMK ${r.keyring} v${r.version}`, r, 'INSERT INTO keystrata_cmk VALUES (?, ?, ?, ?, ?, ?, ?)', [
      r.keyring,
      r.version,
      r.hsmLabel,
      r.hsmId,
      r.state,
      r.createdAt,
      r.updatedAt,
    ]);
  }

  /** Inserts a CMK or KEK version; a primary one demotes the previous primary in the same transaction. */
  async #insertVersion(table: 'keystrata_cmk' | 'keystrata_kek', what: string, r: { keyring: string; state: KeyState; createdAt: string }, insert: string, values: unknown[]): Promise<void> {
    this.#queries += 2;
    try {
      await this.#db.transaction(async (tx) => {
        if (r.state === 'primary') await tx.run(`UPDATE ${table} SET state = 'enabled', updated_at = ? WHERE keyring = ? AND state = 'primary'`, [r.createdAt, r.keyring]);
        await tx.run(insert, values);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw versionClash(what, error);
      throw new KeystrataError('KEYSTORE_UNAVAILABLE', 'A key-store statement failed.', { cause: error });
    }
  }

  async setCmkState(keyring: string, version: number, state: KeyState, at: string): Promise<void> {
    await this.#changing(async (tx) => {
      const changed = await tx.run('UPDATE keystrata_cmk SET state = ?, updated_at = ? WHERE keyring = ? AND version = ?', [state, at, keyring, version]);
      return { statements: 1, changes: changed === 0 ? [] : [{ level: 'cmk', keyring, id: String(version), segment: '', state, at }] };
    });
  }

  /**
   * Runs a key state change and appends what changed to the change log in one write transaction
   * (the revocation sequence, docs/many-instances.md); counts its statements as queries.
   */
  async #changing<T = void>(fn: (tx: SqlExecutor) => Promise<{ statements: number; changes: readonly KeyChangeEntry[]; result?: T }>): Promise<T> {
    let statements = 0;
    try {
      return await this.#db.transaction(async (tx) => {
        const done = await fn(tx);
        statements = done.statements + (await recordKeyChanges(tx, this.#db.dialect, done.changes));
        return done.result as T;
      });
    } catch (error) {
      if (KeystrataError.isInstance(error)) throw error;
      if (isUniqueViolation(error)) throw versionClash('the same key version', error);
      throw new KeystrataError('KEYSTORE_UNAVAILABLE', 'A key-store statement failed.', { cause: error });
    } finally {
      this.#queries += Math.max(statements, 1);
    }
  }

  /** See {@link KeyStore.listKeyChanges}. */
  async listKeyChanges(afterSeq?: number): Promise<KeyChangePage> {
    try {
      const { queries, ...page } = await readKeyChanges(this.#db, afterSeq);
      this.#queries += queries;
      return page;
    } catch (error) {
      this.#queries++;
      throw new KeystrataError('KEYSTORE_UNAVAILABLE', 'Reading the key-change log failed.', { cause: error });
    }
  }

  /** See {@link KeyStore.watchKeyChanges}: PostgreSQL `LISTEN` on a connection of its own; undefined on SQLite. */
  watchKeyChanges(handlers: KeyChangeHandlers): KeyChangeSubscription | undefined {
    if (this.#db.listen === undefined) return undefined;
    return this.#db.listen(KEY_CHANGE_CHANNEL, {
      onReady: handlers.onReady,
      onLost: handlers.onLost,
      onNotification: (payload, schema) => {
        const change = parseKeyChangePayload(payload, schema);
        if (change !== undefined) handlers.onChange(change);
      },
    });
  }

  async listKeks(keyring?: string): Promise<KekRecord[]> {
    const where = keyring === undefined ? '' : ' WHERE keyring = ?';
    const rows = await this.#all(`SELECT * FROM keystrata_kek${where} ORDER BY keyring, version`, keyring === undefined ? [] : [keyring]);
    return rows.map((row) => kekFromRow(row));
  }

  async insertKek(r: KekRecord): Promise<void> {
    await this.#insertVersion(
      'keystrata_kek',
      `KEK ${r.keyring} v${r.version}`,
      r,
      'INSERT INTO keystrata_kek (keyring, version, cmk_version, wrapped, state, created_at, updated_at, binding) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [r.keyring, r.version, r.cmkVersion, r.wrapped, r.state, r.createdAt, r.updatedAt, r.binding ?? ''],
    );
  }

  async updateKek(keyring: string, version: number, change: { state?: KeyState; wrapped?: string; cmkVersion?: number; at: string; binding?: string }): Promise<void> {
    const sql = `UPDATE keystrata_kek SET state = COALESCE(?, state), wrapped = COALESCE(?, wrapped),
       cmk_version = COALESCE(?, cmk_version), binding = COALESCE(?, binding), updated_at = ? WHERE keyring = ? AND version = ?`;
    const params = [change.state ?? null, change.wrapped ?? null, change.cmkVersion ?? null, change.binding ?? null, change.at, keyring, version];
    // A rewrap (new wrapping, same state) is no revocation: no change-log entry, no transaction.
    if (change.state === undefined && change.wrapped !== '') {
      await this.#run(sql, params);
      return;
    }
    await this.#changing(async (tx) => {
      const [row] = await tx.all<{ state: string }>('SELECT state FROM keystrata_kek WHERE keyring = ? AND version = ?', [keyring, version]);
      const changed = await tx.run(sql, params);
      const state = (change.state ?? row?.state ?? 'destroyed') as KeyState;
      return { statements: 2, changes: changed === 0 ? [] : [{ level: 'kek', keyring, id: String(version), segment: '', state, at: change.at }] };
    });
  }

  async loadDekChains(ids: readonly string[]): Promise<DekChain[]> {
    const out: DekChain[] = [];
    for (const part of chunks([...new Set(ids)], IN_CHUNK)) {
      const rows = await this.#all(`${DEK_CHAIN_SELECT} WHERE d.id IN (${placeholders(part.length)})`, part);
      for (const row of rows) out.push(chainFromRow(row));
    }
    return out;
  }

  async loadLatestDekChains(keyring: string, segments: readonly string[]): Promise<DekChain[]> {
    const out: DekChain[] = [];
    for (const part of chunks([...new Set(segments)], IN_CHUNK)) {
      const rows = await this.#all(
        `${DEK_CHAIN_SELECT} WHERE d.keyring = ? AND d.segment IN (${placeholders(part.length)})
         AND d.version = (SELECT MAX(x.version) FROM keystrata_dek x WHERE x.keyring = d.keyring AND x.segment = d.segment)`,
        [keyring, ...part],
      );
      for (const row of rows) out.push(chainFromRow(row));
    }
    return out;
  }

  async insertDek(r: DekRecord): Promise<boolean> {
    const changed = await this.#run('INSERT INTO keystrata_dek VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', [
      r.id,
      r.keyring,
      r.segment,
      r.version,
      r.kekVersion,
      r.wrapped,
      r.state,
      r.createdAt,
      r.updatedAt,
    ]);
    return changed === 1;
  }

  async updateDek(id: string, change: { state?: KeyState; wrapped?: string; kekVersion?: number; at: string }): Promise<void> {
    const sql = `UPDATE keystrata_dek SET state = COALESCE(?, state), wrapped = COALESCE(?, wrapped),
       kek_version = COALESCE(?, kek_version), updated_at = ? WHERE id = ?`;
    const params = [change.state ?? null, change.wrapped ?? null, change.kekVersion ?? null, change.at, id];
    if (change.state === undefined && change.wrapped !== '') {
      await this.#run(sql, params);
      return;
    }
    await this.#changing(async (tx) => {
      const [row] = await tx.all<{ keyring: string; segment: string; state: string }>('SELECT keyring, segment, state FROM keystrata_dek WHERE id = ?', [id]);
      const changed = await tx.run(sql, params);
      if (row === undefined || changed === 0) return { statements: 2, changes: [] };
      const state = (change.state ?? row.state) as KeyState;
      return { statements: 2, changes: [{ level: 'dek', keyring: String(row.keyring), id, segment: String(row.segment), state, at: change.at }] };
    });
  }

  async listDeks(q: DekQuery): Promise<DekRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, ...values: unknown[]): void => {
      where.push(clause);
      params.push(...values);
    };
    if (q.keyring !== undefined) add('keyring = ?', q.keyring);
    if (q.segment !== undefined) add('segment = ?', q.segment);
    if (q.states !== undefined) add(`state IN (${placeholders(q.states.length)})`, ...q.states);
    if (q.kekVersionBelow !== undefined) add('kek_version < ?', q.kekVersionBelow);
    if (q.afterId !== undefined) add('id > ?', q.afterId);
    const clause = where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`;
    const rows = await this.#all(`SELECT * FROM keystrata_dek${clause} ORDER BY id LIMIT ?`, [...params, q.limit]);
    return rows.map(dekFromRow);
  }

  async countDeks(): Promise<DekCount[]> {
    const rows = await this.#all<{ keyring: string; state: KeyState; n: unknown }>('SELECT keyring, state, COUNT(*) AS n FROM keystrata_dek GROUP BY keyring, state ORDER BY keyring, state');
    return rows.map((r) => ({ keyring: r.keyring, state: r.state, count: Number(r.n) }));
  }

  async appendAudit(entry: Omit<AuditRecord, 'seq' | 'prevMac' | 'mac'>, seal: (seq: number, prevMac: string) => Promise<string>): Promise<AuditRecord> {
    this.#queries += 2;
    try {
      return await this.#db.transaction(async (tx) => {
        const [last] = await tx.all<Record<string, unknown>>('SELECT seq, mac FROM keystrata_audit ORDER BY seq DESC LIMIT 1');
        const seq = last === undefined ? 1 : Number(last.seq) + 1;
        const prevMac = last === undefined ? '' : String(last.mac);
        const mac = await seal(seq, prevMac);
        const record: AuditRecord = { ...entry, seq, prevMac, mac };
        await tx.run('INSERT INTO keystrata_audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [seq, record.at, record.event, record.subject, record.actor, record.details, prevMac, mac]);
        return record;
      });
    } catch (error) {
      if (KeystrataError.isInstance(error)) throw error;
      throw new KeystrataError('KEYSTORE_UNAVAILABLE', 'Appending to the audit trail failed.', { cause: error });
    }
  }

  async listAudit(afterSeq = 0, limit = 10_000): Promise<AuditRecord[]> {
    const rows = await this.#all('SELECT * FROM keystrata_audit WHERE seq > ? ORDER BY seq LIMIT ?', [afterSeq, limit]);
    return rows.map(auditFromRow);
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const [row] = await this.#all('SELECT * FROM keystrata_job WHERE id = ?', [id]);
    return row === undefined ? undefined : jobFromRow(row);
  }

  async putJob(j: JobRecord): Promise<void> {
    await this.#run(
      `INSERT INTO keystrata_job VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET
       state = excluded.state, cursor = excluded.cursor, processed = excluded.processed, data = excluded.data, updated_at = excluded.updated_at`,
      [j.id, j.kind, j.state, j.cursor, j.processed, j.data, j.updatedAt],
    );
  }

  // tombstones

  async putTombstone(t: TombstoneRecord): Promise<void> {
    await this.#changing(async (tx) => {
      const changed = await tx.run('INSERT INTO keystrata_tombstone VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', [t.kind, t.id, t.keyring, t.segment, t.destroyedAt, t.durableAt]);
      return { statements: 1, changes: changed === 0 ? [] : [{ level: t.kind, keyring: t.keyring, id: t.id, segment: t.segment, state: 'destroyed', at: t.destroyedAt }] };
    });
  }

  async listTombstones(keyring?: string): Promise<TombstoneRecord[]> {
    const where = keyring === undefined ? '' : ' WHERE keyring = ?';
    const rows = await this.#all(`SELECT * FROM keystrata_tombstone${where} ORDER BY destroyed_at, kind, keyring, id`, keyring === undefined ? [] : [keyring]);
    return rows.map(tombstoneFromRow);
  }

  async markTombstonesDurable(keyring: string, destroyedUpTo: string, at: string): Promise<number> {
    return this.#run('UPDATE keystrata_tombstone SET durable_at = ? WHERE keyring = ? AND durable_at IS NULL AND destroyed_at <= ?', [at, keyring, destroyedUpTo]);
  }

  async reopenTombstone(kind: TombstoneRecord['kind'], keyring: string, id: string, destroyedAt: string): Promise<void> {
    await this.#changing(async (tx) => {
      const changed = await tx.run('UPDATE keystrata_tombstone SET durable_at = NULL, destroyed_at = ? WHERE kind = ? AND keyring = ? AND id = ?', [destroyedAt, kind, keyring, id]);
      const [row] = changed === 0 || kind !== 'dek' ? [] : await tx.all<{ segment: string }>('SELECT segment FROM keystrata_tombstone WHERE kind = ? AND keyring = ? AND id = ?', [kind, keyring, id]);
      return { statements: 2, changes: changed === 0 ? [] : [{ level: kind, keyring, id, segment: String(row?.segment ?? ''), state: 'destroyed', at: destroyedAt }] };
    });
  }

  async purgeErased(mode: 'quick' | 'full'): Promise<string> {
    try {
      if (this.#db.dialect === 'sqlite') {
        const [result] = await this.#db.all<{ busy: number }>('PRAGMA wal_checkpoint(TRUNCATE)');
        return Number(result?.busy ?? 0) === 0 ? 'sqlite: WAL checkpointed and truncated' : 'sqlite: WAL checkpoint blocked by a reader; run it again later';
      }
      // FULL rewrites the key tables into new files: dead tuples holding old wrapped keys go with the old
      // files. SKIP_LOCKED (PostgreSQL 12+): never queue an exclusive lock behind a long transaction.
      const vacuum = mode === 'full' ? 'VACUUM (FULL, SKIP_LOCKED)' : 'VACUUM (SKIP_LOCKED)';
      const skipped: string[] = [];
      for (const table of ['keystrata_kek', 'keystrata_dek']) {
        const before = await this.#db.all<{ node: unknown }>('SELECT pg_relation_filenode(?) AS node', [table]);
        await this.#db.run(`${vacuum} ${table}`);
        const after = await this.#db.all<{ node: unknown }>('SELECT pg_relation_filenode(?) AS node', [table]);
        if (mode === 'full' && String(before[0]?.node) === String(after[0]?.node)) skipped.push(table);
      }
      return `postgres: ${vacuum} keystrata_kek, keystrata_dek${skipped.length ? `; skipped (locked by another transaction): ${skipped.join(', ')}, run VACUUM FULL later` : ''}`;
    } catch (error) {
      return `${this.#db.dialect}: purge failed (${error instanceof Error ? error.name : 'error'}); see docs/shredding.md for the operator's steps`;
    } finally {
      this.#queries++;
    }
  }

  async replaceDekWrapping(id: string, expectedWrapped: string, change: { wrapped: string; kekVersion: number; at: string }): Promise<boolean> {
    const changed = await this.#run(
      `UPDATE keystrata_dek SET wrapped = ?, kek_version = ?, updated_at = ?
       WHERE id = ? AND wrapped = ? AND state IN ('primary', 'enabled', 'disabled')`,
      [change.wrapped, change.kekVersion, change.at, id, expectedWrapped],
    );
    return changed === 1;
  }

  // leases

  async acquireLease(lease: LeaseRecord, at: string): Promise<boolean> {
    const changed = await this.#run(
      `INSERT INTO keystrata_lease VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET
       holder = excluded.holder, expires_at = excluded.expires_at
       WHERE keystrata_lease.expires_at < ? OR keystrata_lease.holder = excluded.holder`,
      [lease.name, lease.holder, lease.expiresAt, at],
    );
    return changed === 1;
  }

  async getLease(name: string): Promise<LeaseRecord | undefined> {
    const [row] = await this.#all('SELECT * FROM keystrata_lease WHERE name = ?', [name]);
    return row === undefined ? undefined : { name: String(row.name), holder: String(row.holder), expiresAt: String(row.expires_at) };
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.#run('DELETE FROM keystrata_lease WHERE name = ? AND holder = ?', [name, holder]);
  }

  async setPrimaryCmk(keyring: string, version: number, at: string): Promise<void> {
    this.#queries += 2;
    try {
      await this.#db.transaction(async (tx) => {
        await tx.run(`UPDATE keystrata_cmk SET state = 'enabled', updated_at = ? WHERE keyring = ? AND state = 'primary' AND version <> ?`, [at, keyring, version]);
        const changed = await tx.run(`UPDATE keystrata_cmk SET state = 'primary', updated_at = ? WHERE keyring = ? AND version = ?`, [at, keyring, version]);
        if (changed !== 1) throw new KeystrataError('KEY_NOT_FOUND', `CMK ${keyring} v${version} does not exist; nothing was changed.`);
        this.#queries += await recordKeyChanges(tx, this.#db.dialect, [{ level: 'cmk', keyring, id: String(version), segment: '', state: 'primary', at }]);
      });
    } catch (error) {
      if (KeystrataError.isInstance(error)) throw error;
      if (isUniqueViolation(error)) throw versionClash(`the primary CMK of ${keyring}`, error);
      throw new KeystrataError('KEYSTORE_UNAVAILABLE', 'A key-store statement failed.', { cause: error });
    }
  }

  // rotation policies

  async getPolicy(keyring: string): Promise<PolicyRecord | undefined> {
    const [row] = await this.#all('SELECT * FROM keystrata_policy WHERE keyring = ?', [keyring]);
    return row === undefined ? undefined : policyFromRow(row);
  }

  async putPolicy(p: PolicyRecord): Promise<void> {
    await this.#run(
      `INSERT INTO keystrata_policy VALUES (?, ?, ?, ?, ?) ON CONFLICT (keyring) DO UPDATE SET
       kek_validity_s = excluded.kek_validity_s, dek_validity_s = excluded.dek_validity_s, dek_usage_limit = excluded.dek_usage_limit, updated_at = excluded.updated_at`,
      [p.keyring, p.kekValiditySeconds, p.dekValiditySeconds, p.dekUsageLimit, p.updatedAt],
    );
  }

  reserveDekUses(requests: ReadonlyArray<{ readonly dekId: string; readonly count: number }>): Promise<Map<string, number>> {
    return reserveDekUsesSql((sql, params) => this.#all(sql, params), requests);
  }

  loadDekUses(ids: readonly string[]): Promise<Map<string, number>> {
    return loadDekUsesSql((sql, params) => this.#all(sql, params), ids);
  }

  async listJobs(kind: string): Promise<JobRecord[]> {
    const rows = await this.#all('SELECT * FROM keystrata_job WHERE kind = ? ORDER BY id', [kind]);
    return rows.map(jobFromRow);
  }
}
