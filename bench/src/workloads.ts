import type { FieldContext, KeyHierarchy } from '@keystrata/core';
import { ROUNDS } from './config.js';
import { COLD_ROWS, FIELDS_PER_ROW, LOOKUPS, ROTATION_ROWS, ROTATION_SEQ, ROWS, emailOf, expectRow, expectRows, lookupSeqs, mainBatches, rowsFrom, ssnOf, type PatientRow } from './data.js';
import { runWorkload, type VariantStep, type WorkloadId, type WorkloadResult } from './harness.js';
import { countersOf } from './keys.js';
import { RawGcm } from './raw.js';

/** A row as read back (plaintext for every ORM variant). */
export interface ReadRow {
  readonly seq: number;
  readonly email: unknown;
  readonly ssn: unknown;
}

/** What one ORM variant (plain, keystrata or peer) does for each workload. */
export interface OrmVariant {
  /** Drops and re-creates the table / collection with its indexes (untimed, before each W1 run). */
  recreate(): Promise<void>;
  /** W1: inserts one batch of rows. */
  insertBatch(rows: readonly PatientRow[]): Promise<void>;
  /** W2: every row of the table. */
  readAll(): Promise<readonly ReadRow[]>;
  /** W3: the row with this e-mail; a string instead of a function: why the variant cannot. */
  findByEmail: ((email: string) => Promise<ReadRow | null | undefined>) | string;
  /** W4: rows with `seq < limit` (spanning all 100 tenants). */
  readSeqBelow(limit: number): Promise<readonly ReadRow[]>;
  /** W5 set-up (untimed, once): stores the rotation tenant's rows (default: insertBatch into the main table). */
  insertRotationBatch?: (rows: readonly PatientRow[]) => Promise<void>;
  /** W5 preparation (untimed, before each run), e.g. the peer's next key. */
  prepareRotation?: () => Promise<void>;
  /** W5: re-encrypt (plain: rewrite) the rotation tenant's rows; returns how many rows it wrote. Or why not. */
  rotate: (() => Promise<number>) | string;
}

/** A stored keystrata row as the plain ORM sees it: envelopes and the blind index, no decryption. */
export interface StoredRow {
  readonly id: string;
  readonly seq: number;
  readonly tenantId: string;
  readonly email: string;
  readonly ssn: string;
  readonly emailIndex: string;
}

/** A row with envelope-sized values, written by the plain ORM into a scratch table. */
interface ScratchRow {
  readonly seq: number;
  readonly tenantId: string;
  readonly email: string;
  readonly ssn: string;
  /** Absent on plaintext rows: the plain variants of W1 write no index column either. */
  readonly emailIndex?: string;
}

/**
 * What the breakdown needs from an ORM to split keystrata's overhead into storage (bigger values,
 * the blind-index column), core crypto and adapter glue.
 */
interface Breakdown {
  /** The model name the adapter binds into the AAD and the blind index. */
  readonly model: string;
  /** The keystrata table read through the plain ORM (no adapter): envelopes as stored. */
  readCiphertext(): Promise<readonly StoredRow[]>;
  /**
   * Re-creates the scratch table: the plain table's layout and indexes (incl. the empty index
   * column), or the keystrata table's (no index on the encrypted columns, a unique one on the index column).
   */
  recreateScratch(layout: 'plain' | 'keystrata'): Promise<void>;
  /** Inserts one batch into the scratch table with the plain ORM. */
  insertScratch(rows: readonly ScratchRow[]): Promise<void>;
}

type Rounds = { readonly warmup: number; readonly rounds: number };

export interface OrmSetup {
  readonly plain: OrmVariant;
  readonly keystrata: OrmVariant;
  readonly peer: OrmVariant;
  readonly hierarchy: KeyHierarchy;
  readonly breakdown: Breakdown;
  /** Per workload and variant, what the variant does when worth saying. */
  readonly notes?: Partial<Record<WorkloadId | 'B1' | 'B2', Record<string, string>>>;
  /** Fewer lookups / other rounds where the database makes the full size impractical (stated in the report). */
  readonly lookups?: number;
  readonly rounds?: Partial<Record<WorkloadId, Rounds>>;
}

const ORM_VARIANTS = ['plain', 'keystrata', 'peer'] as const;

/**
 * KEYSTRATA_BENCH_WORKLOADS=W3,W4 (ids of W1–W5, B1, B2): only those are measured, for iterating
 * on one workload with its ORM's bench file alone. The rows W2–W5 read are still inserted
 * (untimed) when W1 is not measured. Unset: all of them, as `pnpm bench` runs them.
 */
const ONLY = process.env.KEYSTRATA_BENCH_WORKLOADS?.split(',').map((id) => id.trim());
const measured = (id: WorkloadId | 'B1' | 'B2'): boolean => ONLY === undefined || ONLY.includes(id);
type OrmVariantName = (typeof ORM_VARIANTS)[number];

/**
 * Runs W1–W5 for one ORM, interleaving plain, keystrata, peer and raw AES-256-GCM in each round,
 * plus two breakdown workloads (B2 read path after W2, B1 write path at the end). W1 leaves
 * 10,000 rows in every table; the rotation tenant's 1,000 rows are added (untimed) only before
 * W5, so W2–W4 read exactly the 10,000 main rows.
 */
export async function runOrmWorkloads(setup: OrmSetup, log: (line: string) => void = console.log): Promise<WorkloadResult[]> {
  const raw = new RawGcm();
  const batches = mainBatches();
  const all = batches.flat();
  const emails = all.map((r) => r.email);
  const ssns = all.map((r) => r.ssn);
  const rawEmails = raw.encryptAll(emails);
  const rawSsns = raw.encryptAll(ssns);
  const counters = countersOf(setup.hierarchy);
  const rounds = (id: WorkloadId): Rounds => setup.rounds?.[id] ?? ROUNDS[id];
  const results: WorkloadResult[] = [];
  // Raw AES-256-GCM decrypting all of W2's values (W2 and B2).
  const rawReadAll: VariantStep = {
    run: () => {
      raw.decryptAll(rawEmails, emails);
      raw.decryptAll(rawSsns, ssns);
    },
  };
  // Raw AES-256-GCM on W1's values, batch by batch (W1 and B1).
  const rawInsert: VariantStep = {
    run: () => {
      for (const batch of batches) {
        raw.encryptAll(batch.map((r) => r.email));
        raw.encryptAll(batch.map((r) => r.ssn));
      }
    },
  };
  const each = (make: (v: OrmVariant, name: OrmVariantName) => VariantStep): Record<OrmVariantName, VariantStep> =>
    Object.fromEntries(ORM_VARIANTS.map((name) => [name, make(setup[name], name)])) as Record<OrmVariantName, VariantStep>;

  // W1: insert 10,000 rows in batches of 500 into a freshly re-created table.
  if (!measured('W1')) {
    for (const name of ORM_VARIANTS) {
      await setup[name].recreate();
      for (const batch of batches) await setup[name].insertBatch(batch);
    }
  } else
    results.push(
      await runWorkload(
        {
          id: 'W1',
          title: `insert ${ROWS} rows in batches of ${batches[0]!.length}`,
          fields: ROWS * FIELDS_PER_ROW,
          ...rounds('W1'),
          notes: setup.notes?.W1,
          steps: {
            ...each((v) => ({
              prepare: () => v.recreate(),
              run: async () => {
                for (const batch of batches) await v.insertBatch(batch);
              },
            })),
            raw: rawInsert,
          },
        },
        counters,
        log,
      ),
    );
  for (const name of ORM_VARIANTS) expectRows(await setup[name].readAll(), ROWS);

  // W2: read all 10,000 rows (warm key cache).
  if (measured('W2'))
    results.push(
      await runWorkload(
        {
          id: 'W2',
          title: `read all ${ROWS} rows (warm)`,
          fields: ROWS * FIELDS_PER_ROW,
          ...rounds('W2'),
          notes: setup.notes?.W2,
          steps: {
            ...each((v) => ({ run: async () => expectRows(await v.readAll(), ROWS) })),
            raw: rawReadAll,
          },
        },
        counters,
        log,
      ),
    );

  // B2: where W2's keystrata overhead goes (read path).
  const stored = await setup.breakdown.readCiphertext();
  if (stored.length !== ROWS || !String(stored[0]?.email).startsWith('ks1.')) throw new Error('breakdown: the keystrata table should hold 10,000 envelopes');
  const model = setup.breakdown.model;
  const context = (row: StoredRow, field: 'email' | 'ssn'): FieldContext => ({ model, field, recordId: row.id, segment: `tenantId:${row.tenantId}` });
  const decryptItems = stored.flatMap((row) => [
    { ciphertext: row.email, context: context(row, 'email') },
    { ciphertext: row.ssn, context: context(row, 'ssn') },
  ]);
  const firstSeq = stored[0]!.seq;
  if (measured('B2'))
    results.push(
      await runWorkload(
        {
          id: 'B2',
          title: `read path breakdown: ${ROWS} rows`,
          fields: ROWS * FIELDS_PER_ROW,
          ...rounds('W2'),
          standalone: ['core', 'raw'],
          counted: ['keystrata', 'core'],
          notes: {
            'plain-ciphertext': "plain ORM reading the keystrata table's stored envelopes and blind indexes (no decryption): the cost of bigger values",
            core: 'hierarchy.decryptValues on those 20,000 envelopes with their contexts (warm cache): the core alone, no ORM',
            ...setup.notes?.B2,
          },
          steps: {
            plain: { run: async () => expectRows(await setup.plain.readAll(), ROWS) },
            'plain-ciphertext': {
              run: async () => {
                if ((await setup.breakdown.readCiphertext()).length !== ROWS) throw new Error('ciphertext read');
              },
            },
            core: {
              run: async () => {
                const values = await setup.hierarchy.decryptValues(decryptItems);
                if (values[0] !== emailOf(firstSeq) || values[1] !== ssnOf(firstSeq)) throw new Error('core decrypt');
              },
            },
            keystrata: { run: async () => expectRows(await setup.keystrata.readAll(), ROWS) },
            raw: rawReadAll,
          },
        },
        counters,
        log,
      ),
    );

  // W3: equality lookups on the encrypted e-mail.
  const lookups = lookupSeqs.slice(0, setup.lookups ?? LOOKUPS);
  if (measured('W3'))
    results.push(
      await runWorkload(
        {
          id: 'W3',
          title: `${lookups.length} equality lookups on an encrypted field`,
          fields: lookups.length * FIELDS_PER_ROW,
          ...rounds('W3'),
          notes: setup.notes?.W3,
          steps: {
            ...each((v) => {
              const find = v.findByEmail;
              if (typeof find === 'string') return { na: find };
              return {
                run: async () => {
                  for (const seq of lookups) expectRow(await find(emailOf(seq)), seq);
                },
              };
            }),
            raw: {
              run: () => {
                for (const seq of lookups) {
                  if (raw.decrypt(rawEmails[seq]!) !== emailOf(seq) || raw.decrypt(rawSsns[seq]!) !== ssnOf(seq)) throw new Error('raw lookup');
                }
              },
            },
          },
        },
        counters,
        log,
      ),
    );

  // W4: cold read of 1,000 rows across the 100 tenants, key cache emptied before each keystrata run.
  const coldEmails = rawEmails.slice(0, COLD_ROWS);
  const coldSsns = rawSsns.slice(0, COLD_ROWS);
  const coldPlainEmails = emails.slice(0, COLD_ROWS);
  const coldPlainSsns = ssns.slice(0, COLD_ROWS);
  if (measured('W4'))
    results.push(
      await runWorkload(
        {
          id: 'W4',
          title: `cold read of ${COLD_ROWS} rows across 100 segments`,
          fields: COLD_ROWS * FIELDS_PER_ROW,
          ...rounds('W4'),
          notes: setup.notes?.W4,
          steps: {
            ...each((v, name) => ({
              ...(name === 'keystrata' ? { prepare: () => setup.hierarchy.clearCache() } : {}),
              run: async () => expectRows(await v.readSeqBelow(COLD_ROWS), COLD_ROWS),
            })),
            raw: {
              run: () => {
                raw.decryptAll(coldEmails, coldPlainEmails);
                raw.decryptAll(coldSsns, coldPlainSsns);
              },
            },
          },
        },
        counters,
        log,
      ),
    );

  // W5: DEK rotation of the dedicated tenant's segment (1,000 rows, 2,000 values).
  if (!measured('W5') && !measured('B1')) return results;
  const rotationRows = rowsFrom(ROTATION_SEQ, ROTATION_ROWS);
  for (const name of ORM_VARIANTS) {
    const v = setup[name];
    for (let i = 0; i < rotationRows.length; i += 500) await (v.insertRotationBatch ?? v.insertBatch)(rotationRows.slice(i, i + 500));
  }
  const rotEmails = raw.encryptAll(rotationRows.map((r) => r.email));
  const rotSsns = raw.encryptAll(rotationRows.map((r) => r.ssn));
  if (measured('W5'))
    results.push(
      await runWorkload(
        {
          id: 'W5',
          title: `DEK rotation re-encrypting one segment of ${ROTATION_ROWS} rows`,
          fields: ROTATION_ROWS * FIELDS_PER_ROW,
          ...rounds('W5'),
          notes: setup.notes?.W5,
          steps: {
            ...each((v) => {
              const rotate = v.rotate;
              if (typeof rotate === 'string') return { na: rotate };
              return {
                ...(v.prepareRotation === undefined ? {} : { prepare: v.prepareRotation }),
                run: async () => {
                  const written = await rotate();
                  if (written !== ROTATION_ROWS) throw new Error(`rotation wrote ${written} rows, expected ${ROTATION_ROWS}`);
                },
              };
            }),
            raw: {
              run: () => {
                raw.encryptAll(raw.decryptAll(rotEmails));
                raw.encryptAll(raw.decryptAll(rotSsns));
              },
            },
          },
        },
        counters,
        log,
      ),
    );
  // After the rotations every variant still reads all its rows back as the plaintext written.
  for (const name of ORM_VARIANTS) {
    const v = setup[name];
    expectRows(await v.readAll(), ROWS + (v.insertRotationBatch === undefined ? ROTATION_ROWS : 0));
  }

  // B1: where W1's keystrata overhead goes (write path), into a scratch table and the keystrata table.
  const bySeq = new Map(stored.map((r) => [r.seq, r]));
  const scratchBatches = batches.map((batch) =>
    batch.map((r): ScratchRow => {
      const s = bySeq.get(r.seq)!;
      return { seq: r.seq, tenantId: r.tenantId, email: s.email, ssn: s.ssn, emailIndex: s.emailIndex };
    }),
  );
  const plainBatches = batches.map((batch) => batch.map((r): ScratchRow => ({ ...r })));
  const indexBatches = batches.map((batch) => batch.map((r): ScratchRow => ({ ...r, emailIndex: bySeq.get(r.seq)!.emailIndex })));
  const encryptItems = stored.flatMap((row) => [
    { value: emailOf(row.seq), context: context(row, 'email') },
    { value: ssnOf(row.seq), context: context(row, 'ssn') },
  ]);
  const indexItems = stored.map((row) => ({ value: emailOf(row.seq), model, field: 'email' }));
  // One value per segment: writing it (untimed) refreshes every write pointer and the index key, so core-fresh times the crypto alone.
  const pointerItems = [...new Map(encryptItems.map((item) => [item.context.segment, item])).values()];
  const coreSeal = async () => {
    const sealed = await setup.hierarchy.encryptValues(encryptItems);
    const indexes = await setup.hierarchy.blindIndexes(indexItems);
    if (sealed.length !== encryptItems.length || indexes[0] !== stored[0]!.emailIndex) throw new Error('core encrypt / blind index');
  };
  if (measured('B1'))
    results.push(
      await runWorkload(
        {
          id: 'B1',
          title: `write path breakdown: ${ROWS} rows`,
          fields: ROWS * FIELDS_PER_ROW,
          ...rounds('W1'),
          standalone: ['core', 'core-fresh', 'raw'],
          counted: ['keystrata', 'core', 'core-fresh'],
          notes: {
            plain: 'plain ORM inserting the plaintext rows into a scratch table (same layout as the plain table)',
            'plain-index': 'plain ORM inserting the plaintext rows with the blind index keystrata stored in the index column (plain layout): the cost of the index column alone',
            'plain-ciphertext':
              "plain ORM inserting the same envelopes and blind indexes keystrata stored, into a scratch table with the keystrata table's layout and indexes: the cost of storing what keystrata stores",
            core: 'hierarchy.encryptValues (20,000 values) + blindIndexes (10,000 e-mails), warm, as a write after the pause between runs: the core alone, no ORM, incl. its key-store check of the write pointers (every writeRecheckMs, 1 s)',
            'core-fresh': 'the same, right after one value per segment was written (untimed): the core crypto alone, write pointers fresh',
            ...setup.notes?.B1,
          },
          steps: {
            plain: {
              prepare: () => setup.breakdown.recreateScratch('plain'),
              run: async () => {
                for (const b of plainBatches) await setup.breakdown.insertScratch(b);
              },
            },
            'plain-ciphertext': {
              prepare: () => setup.breakdown.recreateScratch('keystrata'),
              run: async () => {
                for (const b of scratchBatches) await setup.breakdown.insertScratch(b);
              },
            },
            'plain-index': {
              prepare: () => setup.breakdown.recreateScratch('plain'),
              run: async () => {
                for (const b of indexBatches) await setup.breakdown.insertScratch(b);
              },
            },
            // The default writeRecheckMs (1 s) has passed before every run of this one, as after any pause.
            core: { prepare: () => new Promise((resolve) => setTimeout(resolve, 1_100)), run: coreSeal },
            'core-fresh': {
              prepare: async () => {
                await setup.hierarchy.encryptValues(pointerItems);
                await setup.hierarchy.blindIndexes(indexItems.slice(0, 1));
              },
              run: coreSeal,
            },
            keystrata: {
              prepare: () => setup.keystrata.recreate(),
              run: async () => {
                for (const batch of batches) await setup.keystrata.insertBatch(batch);
              },
            },
            raw: rawInsert,
          },
        },
        counters,
        log,
      ),
    );
  return results;
}

/** Throws when the plain, keystrata or raw variant of any workload failed (the peer's failures are reported only). */
export function assertNoFailures(workloads: readonly WorkloadResult[]): void {
  const failed = workloads.flatMap((w) =>
    Object.entries(w.variants)
      .filter(([v, r]) => v !== 'peer' && r.status === 'error')
      .map(([v, r]) => `${w.id} ${v}: ${r.reason ?? ''}`),
  );
  if (failed.length > 0) throw new Error(`variants failed:\n${failed.join('\n')}`);
}
