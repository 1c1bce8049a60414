/**
 * Where a re-encryption scan stands: the model (by position) and the last id it returned.
 *
 * @example
 * ```ts
 * const position: ScanPosition = { model: 0, after: null };
 * ```
 */
export interface ScanPosition {
  readonly model: number;
  readonly after: string | null;
}

/**
 * Encodes a scan position as the opaque cursor string the core stores between batches.
 *
 * @example
 * ```ts
 * encodeCursor({ model: 0, after: 'p1' }); // '[0,"p1"]'
 * ```
 */
export function encodeCursor(position: ScanPosition): string {
  return JSON.stringify([position.model, position.after]);
}

/**
 * Decodes a cursor made by {@link encodeCursor} (null: start from the first model).
 *
 * @example
 * ```ts
 * decodeCursor('[1,null]'); // { model: 1, after: null }
 * ```
 */
export function decodeCursor(cursor: string | null): ScanPosition {
  if (cursor === null) return { model: 0, after: null };
  const [model, after] = JSON.parse(cursor) as [number, string | null];
  return { model, after };
}

/**
 * The record id the hook hands the core: model and primary key together.
 *
 * @example
 * ```ts
 * recordKey('Patient', 'p1'); // '["Patient","p1"]'
 * ```
 */
export function recordKey(model: string, id: string): string {
  return JSON.stringify([model, id]);
}

/**
 * Splits a {@link recordKey}.
 *
 * @example
 * ```ts
 * parseRecordKey('["Patient","p1"]'); // ['Patient', 'p1']
 * ```
 */
export function parseRecordKey(key: string): [string, string] {
  return JSON.parse(key) as [string, string];
}
