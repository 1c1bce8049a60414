/**
 * Most statements the plugin sends in one update/bulkWrite command. FerretDB 1.24 never answers
 * an update or bulkWrite command of about 100 statements or more (the client then waits forever),
 * while MongoDB takes up to 100,000: 50 keeps a margin below FerretDB's limit and costs one round
 * trip per 50 documents elsewhere.
 */
const MAX_WRITES_PER_COMMAND = 50;

/**
 * Splits write operations, in order, into consecutive chunks of at most `size` (one command each).
 *
 * @example
 * ```ts
 * for (const chunk of writeChunks(ops)) await model.collection.bulkWrite(chunk); // ≤ 50 ops each
 * ```
 */
export function writeChunks<T>(ops: readonly T[], size = MAX_WRITES_PER_COMMAND): T[][] {
  const chunks: T[][] = [];
  for (let at = 0; at < ops.length; at += size) chunks.push(ops.slice(at, at + size));
  return chunks;
}
