import { chunks, IN_CHUNK, placeholders } from './sql-chunks.js';

/** A query of the SQL key store (counted, errors mapped to KEYSTORE_UNAVAILABLE by the caller). */
type Query = <T = Record<string, unknown>>(sql: string, params: readonly unknown[]) => Promise<T[]>;

/**
 * Reserves DEK uses in blocks (rotation policies' usage counting): one atomic upsert per chunk adds
 * each count to its DEK's reserved total and returns the new totals, so concurrent reservations, in
 * any process, never get the same range.
 *
 * @example
 * ```ts
 * const totals = await reserveDekUsesSql(query, [{ dekId, count: 4096 }]); // block = [total - 4096, total)
 * ```
 */
export async function reserveDekUsesSql(query: Query, requests: ReadonlyArray<{ readonly dekId: string; readonly count: number }>): Promise<Map<string, number>> {
  const totals = new Map<string, number>();
  const merged = new Map<string, number>();
  for (const r of requests) merged.set(r.dekId, (merged.get(r.dekId) ?? 0) + r.count);
  for (const part of chunks([...merged], IN_CHUNK / 2)) {
    // One atomic upsert per chunk: the database adds, so concurrent reservations never overlap.
    const rows = await query<{ dek_id: string; reserved: unknown }>(
      `INSERT INTO keystrata_dek_use (dek_id, reserved) VALUES ${part.map(() => '(?, ?)').join(', ')}
       ON CONFLICT (dek_id) DO UPDATE SET reserved = keystrata_dek_use.reserved + excluded.reserved RETURNING dek_id, reserved`,
      part.flat(),
    );
    for (const row of rows) totals.set(String(row.dek_id), Number(row.reserved));
  }
  return totals;
}

/**
 * The reserved uses of each DEK of `ids` that has any (status displays).
 *
 * @example
 * ```ts
 * const uses = await loadDekUsesSql(query, ['dek-id-1', 'dek-id-2']);
 * ```
 */
export async function loadDekUsesSql(query: Query, ids: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const part of chunks([...new Set(ids)], IN_CHUNK)) {
    const rows = await query<{ dek_id: string; reserved: unknown }>(`SELECT dek_id, reserved FROM keystrata_dek_use WHERE dek_id IN (${placeholders(part.length)})`, part);
    for (const row of rows) out.set(String(row.dek_id), Number(row.reserved));
  }
  return out;
}
