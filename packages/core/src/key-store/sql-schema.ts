import type { SqlExecutor } from './sql-driver.js';

/**
 * The documented table layout (docs/keystore.md). Portable SQL: TEXT and INTEGER only, so SQLite
 * and PostgreSQL share it, and every adapter reads the same keys.
 *
 * @example
 * ```ts
 * import { SQL_SCHEMA } from '@keystrata/core/adapter';
 * await fs.writeFile('migrations/001_keystrata.sql', SQL_SCHEMA.join(';\n') + ';\n');
 * ```
 */
export const SQL_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS keystrata_cmk (
    keyring TEXT NOT NULL, version INTEGER NOT NULL, hsm_label TEXT NOT NULL, hsm_id TEXT NOT NULL,
    state TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (keyring, version))`,
  `CREATE TABLE IF NOT EXISTS keystrata_kek (
    keyring TEXT NOT NULL, version INTEGER NOT NULL, cmk_version INTEGER NOT NULL, wrapped TEXT NOT NULL,
    state TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (keyring, version))`,
  `CREATE TABLE IF NOT EXISTS keystrata_dek (
    id TEXT PRIMARY KEY, keyring TEXT NOT NULL, segment TEXT NOT NULL, version INTEGER NOT NULL,
    kek_version INTEGER NOT NULL, wrapped TEXT NOT NULL, state TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    UNIQUE (keyring, segment, version))`,
  `CREATE INDEX IF NOT EXISTS keystrata_dek_kek ON keystrata_dek (keyring, kek_version)`,
  `CREATE TABLE IF NOT EXISTS keystrata_audit (
    seq INTEGER PRIMARY KEY, at TEXT NOT NULL, event TEXT NOT NULL, subject TEXT NOT NULL,
    actor TEXT NOT NULL, details TEXT NOT NULL, prev_mac TEXT NOT NULL, mac TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS keystrata_job (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL, cursor TEXT,
    processed INTEGER NOT NULL, data TEXT NOT NULL, updated_at TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS keystrata_tombstone (
    kind TEXT NOT NULL, id TEXT NOT NULL, keyring TEXT NOT NULL, segment TEXT NOT NULL,
    destroyed_at TEXT NOT NULL, durable_at TEXT,
    PRIMARY KEY (kind, keyring, id))`,
  // One primary CMK and one primary KEK per keyring, enforced by the database. A store that a killed
  // rotation of an older version left with two primaries keeps the newest as primary (a rerun of
  // `rotate cmk` then moves the KEKs still under the other one); the index can then be created.
  `UPDATE keystrata_cmk SET state = 'enabled' WHERE state = 'primary' AND version <
    (SELECT MAX(p.version) FROM keystrata_cmk p WHERE p.keyring = keystrata_cmk.keyring AND p.state = 'primary')`,
  `UPDATE keystrata_kek SET state = 'enabled' WHERE state = 'primary' AND version <
    (SELECT MAX(p.version) FROM keystrata_kek p WHERE p.keyring = keystrata_kek.keyring AND p.state = 'primary')`,
  `CREATE UNIQUE INDEX IF NOT EXISTS keystrata_cmk_one_primary ON keystrata_cmk (keyring) WHERE state = 'primary'`,
  `CREATE UNIQUE INDEX IF NOT EXISTS keystrata_kek_one_primary ON keystrata_kek (keyring) WHERE state = 'primary'`,
  `CREATE TABLE IF NOT EXISTS keystrata_lease (
    name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at TEXT NOT NULL)`,
  // The revocation sequence (issue 15): one row per key state change, numbered in commit order, so
  // every instance can ask "what changed since seq N" in one query (docs/many-instances.md).
  `CREATE TABLE IF NOT EXISTS keystrata_key_change (
    seq INTEGER PRIMARY KEY, level TEXT NOT NULL, keyring TEXT NOT NULL, key_id TEXT NOT NULL,
    segment TEXT NOT NULL, state TEXT NOT NULL, at TEXT NOT NULL)`,
  // Rotation policies and DEK usage counts (docs/rotation-policies.md); NULL = no such rule.
  `CREATE TABLE IF NOT EXISTS keystrata_policy (
    keyring TEXT PRIMARY KEY, kek_validity_s INTEGER, dek_validity_s INTEGER, dek_usage_limit INTEGER,
    updated_at TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS keystrata_dek_use (
    dek_id TEXT PRIMARY KEY, reserved INTEGER NOT NULL)`,
];

/** Column list of a DEK joined with its KEK and CMK, as {@link SqlKeyStore} selects it. */
export const DEK_CHAIN_SELECT = `SELECT d.id, d.keyring, d.segment, d.version, d.kek_version, d.wrapped, d.state,
  d.created_at, d.updated_at,
  k.version AS k_version, k.cmk_version AS k_cmk_version, k.wrapped AS k_wrapped, k.state AS k_state, k.binding AS k_binding,
  k.created_at AS k_created_at, k.updated_at AS k_updated_at,
  c.version AS c_version, c.hsm_label AS c_hsm_label, c.hsm_id AS c_hsm_id, c.state AS c_state,
  c.created_at AS c_created_at, c.updated_at AS c_updated_at
  FROM keystrata_dek d
  LEFT JOIN keystrata_kek k ON k.keyring = d.keyring AND k.version = d.kek_version
  LEFT JOIN keystrata_cmk c ON c.keyring = k.keyring AND c.version = k.cmk_version`;

/** A column added to an existing table after its first release; {@link addColumn} adds it idempotently. */
export interface AddedColumn {
  readonly table: string;
  readonly column: string;
  /** Portable column definition (TEXT/INTEGER, with a default so existing rows stay valid). */
  readonly definition: string;
}

/** Columns added by later releases, applied by `migrate()` after {@link SQL_SCHEMA} (append only). */
export const SQL_ADDED_COLUMNS: readonly AddedColumn[] = [
  // KEK binding (docs/format.md): '' = a legacy KEK, bound by `keystrata rewrap`.
  { table: 'keystrata_kek', column: 'binding', definition: "TEXT NOT NULL DEFAULT ''" },
];

/**
 * Adds a column unless it exists: `ADD COLUMN IF NOT EXISTS` on PostgreSQL; on SQLite (which has no
 * such clause) after a look at `PRAGMA table_info`, inside the migration's write transaction.
 *
 * @example
 * ```ts
 * await addColumn(tx, 'sqlite', { table: 'keystrata_kek', column: 'binding', definition: "TEXT NOT NULL DEFAULT ''" });
 * ```
 */
export async function addColumn(tx: SqlExecutor, dialect: 'sqlite' | 'postgres', c: AddedColumn): Promise<void> {
  if (dialect === 'postgres') {
    await tx.run(`ALTER TABLE ${c.table} ADD COLUMN IF NOT EXISTS ${c.column} ${c.definition}`);
    return;
  }
  const columns = await tx.all<{ name: string }>(`PRAGMA table_info(${c.table})`);
  if (!columns.some((row) => row.name === c.column)) await tx.run(`ALTER TABLE ${c.table} ADD COLUMN ${c.column} ${c.definition}`);
}
