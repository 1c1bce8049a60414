/**
 * The benchmark's data set: 10,000 rows over 100 tenants (100 segments), each with two encrypted
 * ~40-byte strings (`email`, blind-indexed, and `ssn`), plus 1,000 rows of a dedicated tenant
 * whose segment is rotated in W5. Values are deterministic so every variant stores the same bytes.
 */
export const ROWS = 10_000;
export const TENANTS = 100;
export const BATCH = 500;
export const FIELDS_PER_ROW = 2;
export const LOOKUPS = 1_000;
export const COLD_ROWS = 1_000;
export const ROTATION_ROWS = 1_000;
export const ROTATION_TENANT = 'rotation';
/** First `seq` of the rotation tenant's rows (kept apart from the 10,000 main rows). */
export const ROTATION_SEQ = 100_000;

/** One row as every variant writes it. */
export interface PatientRow {
  readonly seq: number;
  readonly tenantId: string;
  readonly email: string;
  readonly ssn: string;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** `t000` … `t099`: row `seq` belongs to tenant `seq % 100` (so any 1,000 consecutive rows span all 100). */
export const tenantOf = (seq: number): string => (seq >= ROTATION_SEQ ? ROTATION_TENANT : `t${pad(seq % TENANTS, 3)}`);

/** A 40-character e-mail address, unique per row. */
export const emailOf = (seq: number): string => `patient.${pad(seq, 6)}@tenant-${pad(seq % 1000, 3)}.clinic.example`;

/** A 40-character identifier string, unique per row. */
export const ssnOf = (seq: number): string => `SSN 123-45-${pad(seq % 10_000, 4)} MRN ${pad(seq, 8)} site-A1`.padEnd(40, '.').slice(0, 40);

const rowOf = (seq: number): PatientRow => ({ seq, tenantId: tenantOf(seq), email: emailOf(seq), ssn: ssnOf(seq) });

/** Rows `from` … `from + count - 1`. */
export const rowsFrom = (from: number, count: number): PatientRow[] => Array.from({ length: count }, (_, i) => rowOf(from + i));

/** The 10,000 main rows in insert batches of 500. */
export const mainBatches = (): PatientRow[][] => Array.from({ length: ROWS / BATCH }, (_, b) => rowsFrom(b * BATCH, BATCH));

/** 1,000 distinct main rows to look up by e-mail, spread over every tenant (7919 is coprime with 10,000). */
export const lookupSeqs: readonly number[] = Array.from({ length: LOOKUPS }, (_, k) => (k * 7919 + 13) % ROWS);

/** Throws unless a read row carries the plaintext it was written with. */
export function expectRow(row: { seq: number; email: unknown; ssn: unknown } | null | undefined, seq?: number): void {
  if (row === null || row === undefined) throw new Error(`expected row ${String(seq)}, got none`);
  if (seq !== undefined && row.seq !== seq) throw new Error(`expected row ${seq}, got ${row.seq}`);
  if (row.email !== emailOf(row.seq) || row.ssn !== ssnOf(row.seq)) throw new Error(`row ${row.seq} did not decrypt to its plaintext`);
}

/** Throws unless `rows` has `count` rows and the first and last of them decrypted correctly. */
export function expectRows(rows: ReadonlyArray<{ seq: number; email: unknown; ssn: unknown }>, count: number): void {
  if (rows.length !== count) throw new Error(`expected ${count} rows, got ${rows.length}`);
  expectRow(rows[0]);
  expectRow(rows.at(-1));
}
