import { KEY_CHANGE_CHANNEL, KEY_CHANGE_PAGE, type KeyChange, type KeyChangeEntry, type KeyChangePage } from './key-changes.js';
import type { KeyState } from './records.js';
import type { SqlExecutor } from './sql-driver.js';

/**
 * Appends changes to `keystrata_key_change` inside the caller's write transaction (which holds the
 * store's write lock: SQLite `BEGIN IMMEDIATE`, PostgreSQL the advisory lock), so seqs rise by one
 * in commit order. On PostgreSQL each change is also sent with `pg_notify` in the same transaction:
 * listeners hear of it only once it committed. Returns the number of statements run.
 */
export async function recordKeyChanges(tx: SqlExecutor, dialect: 'sqlite' | 'postgres', entries: readonly KeyChangeEntry[]): Promise<number> {
  if (entries.length === 0) return 0;
  const [last] = await tx.all<{ seq: unknown }>('SELECT COALESCE(MAX(seq), 0) AS seq FROM keystrata_key_change');
  let seq = Number(last?.seq ?? 0);
  let statements = 1;
  for (const entry of entries) {
    const change: KeyChange = { seq: ++seq, ...entry };
    await tx.run('INSERT INTO keystrata_key_change VALUES (?, ?, ?, ?, ?, ?, ?)', [change.seq, change.level, change.keyring, change.id, change.segment, change.state, change.at]);
    statements++;
    if (dialect === 'postgres') {
      await tx.all(`SELECT pg_notify('${KEY_CHANGE_CHANNEL}', current_schema() || ' ' || ?)`, [JSON.stringify(change)]);
      statements++;
    }
  }
  return statements;
}

const changeFromRow = (row: Record<string, unknown>): KeyChange => ({
  seq: Number(row.seq),
  level: String(row.level) as KeyChange['level'],
  keyring: String(row.keyring),
  id: String(row.key_id),
  segment: String(row.segment),
  state: String(row.state) as KeyState,
  at: String(row.at),
});

/**
 * "What changed after `afterSeq`": one indexed query (none found in the steady state). Without
 * `afterSeq`, only the newest seq. More than {@link KEY_CHANGE_PAGE} changes come back as
 * `truncated` with the newest seq (the caller drops its whole cache).
 */
export async function readKeyChanges(db: SqlExecutor, afterSeq: number | undefined): Promise<KeyChangePage & { queries: number }> {
  const newest = async (): Promise<number> => Number((await db.all<{ seq: unknown }>('SELECT COALESCE(MAX(seq), 0) AS seq FROM keystrata_key_change'))[0]?.seq ?? 0);
  if (afterSeq === undefined) {
    const [row] = await db.all('SELECT * FROM keystrata_key_change ORDER BY seq DESC LIMIT 1');
    const anchor = row === undefined ? undefined : changeFromRow(row);
    return { changes: [], latest: anchor?.seq ?? 0, truncated: false, queries: 1, anchor: anchor ?? null };
  }
  // The row at afterSeq comes along (the anchor): the caller checks it is still the change it saw.
  const rows = (await db.all('SELECT * FROM keystrata_key_change WHERE seq >= ? ORDER BY seq LIMIT ?', [afterSeq, KEY_CHANGE_PAGE + 2])).map(changeFromRow);
  const anchor = rows[0]?.seq === afterSeq ? (rows.shift() ?? null) : null;
  if (anchor === null && afterSeq > 0) return { changes: rows, latest: await newest(), truncated: false, queries: 2, anchor };
  if (rows.length > KEY_CHANGE_PAGE) return { changes: [], latest: await newest(), truncated: true, queries: 2, anchor };
  return { changes: rows, latest: rows.at(-1)?.seq ?? afterSeq, truncated: false, queries: 1, anchor };
}
