type Row = Record<string, unknown>;

/**
 * What the adapter keeps about one caller object it wrote into, in one place (one property
 * definition per row on the write path, instead of an entry in each of three weak structures).
 *
 * @example
 * ```ts
 * const marks = marksOf(entity); marks.sealed; // false
 * ```
 */
export interface RowMarks {
  /** The original values as flat `field, value` pairs (a row has a few encrypted fields); undefined when none are held. */
  saved: unknown[] | undefined;
  /** Whether the encrypted fields hold this adapter's ciphertext (until restored). */
  sealed: boolean;
  /** The blind indexes Keystrata wrote into the object, as flat `column, value` pairs (kept across restores). */
  indexes: unknown[] | undefined;
}

/**
 * The marks live on the object under a non-enumerable symbol (an own property, never inherited):
 * cheaper per row than WeakMap entries (no ephemerons for the GC to trace; measured in separate
 * processes, about half the adapter's write-back cost), and invisible to spreads, `Object.keys`,
 * JSON and TypeORM, which copy or walk enumerable properties only. A registered symbol, so the
 * ESM and CommonJS builds, when both are loaded, see the same marks (the patches are per process).
 */
const MARKS = Symbol.for('keystrata.typeorm.rowMarks');

type Marked = { [MARKS]?: RowMarks };

/**
 * The marks of an object, created empty on first use.
 *
 * @example
 * ```ts
 * const m = marksOf(entity);
 * ```
 */
export function marksOf(row: object): RowMarks {
  let found = peekMarks(row);
  if (found === undefined) {
    found = { saved: undefined, sealed: false, indexes: undefined };
    Object.defineProperty(row, MARKS, { value: found, enumerable: false, writable: false, configurable: true });
  }
  return found;
}

/**
 * The marks of an object, if the adapter ever wrote into it.
 *
 * @example
 * ```ts
 * peekMarks(entity)?.indexes; // ['emailIndex', 'bi1.…']
 * ```
 */
export function peekMarks(row: object): RowMarks | undefined {
  return Object.hasOwn(row, MARKS) ? (row as Marked)[MARKS] : undefined;
}

/**
 * {@link remember} on marks already looked up (the write path does one lookup per row).
 *
 * @example
 * ```ts
 * rememberIn(marksOf(entity), entity, 'ssn');
 * ```
 */
export function rememberIn(m: RowMarks, row: Row, field: string): void {
  const saved = m.saved;
  if (saved === undefined) {
    m.saved = [field, row[field]];
    return;
  }
  for (let i = 0; i < saved.length; i += 2) if (saved[i] === field) return;
  saved.push(field, row[field]);
}

/**
 * Remembers the current value of `field` of a caller's object before it is replaced by ciphertext
 * (first value wins), so {@link restore} can put the plaintext back.
 *
 * @example
 * ```ts
 * remember(entity, 'ssn'); entity.ssn = envelope; … restore(entity);
 * ```
 */
export function remember(row: Row, field: string): void {
  rememberIn(marksOf(row), row, field);
}

/**
 * Puts the remembered plaintext back into a caller's object (after the write, or after it failed).
 *
 * @example
 * ```ts
 * restore(entity); // entity.ssn is plaintext again
 * ```
 */
export function restore(row: unknown): void {
  if (typeof row !== 'object' || row === null) return;
  const m = peekMarks(row);
  if (m === undefined) return;
  m.sealed = false;
  const saved = m.saved;
  if (saved === undefined) return;
  m.saved = undefined;
  for (let i = 0; i < saved.length; i += 2) {
    const field = saved[i] as string;
    if (saved[i + 1] === undefined) delete (row as Row)[field];
    else (row as Row)[field] = saved[i + 1];
  }
}

/**
 * Whether the object was marked sealed (and it was not restored since).
 *
 * @example
 * ```ts
 * if (isSealed(event.entity)) return;
 * ```
 */
export function isSealed(row: unknown): boolean {
  return typeof row === 'object' && row !== null && peekMarks(row)?.sealed === true;
}
