import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { barChart, stackCharts } from './chart.js';
import { CACHE_MAX_AGE_MS, QUICK, ROUNDS } from './config.js';
import { BATCH, COLD_ROWS, FIELDS_PER_ROW, LOOKUPS, ROTATION_ROWS, ROWS, TENANTS, emailOf, ssnOf } from './data.js';
import type { VariantResult } from './harness.js';
import { f2, overhead, workload } from './report-values.js';
import { environment, machine, packageVersion } from './machine.js';
import type { OrmName, OrmPart } from './part.js';
import { PARTS_DIR, RESULTS_DIR } from './paths.js';
import { rawPrimitives } from './raw.js';
import { revocationSection } from './report-revocation.js';
import { usageCountingSection } from './report-usage-counting.js';
import { issue16Section, issue16Targets, readCoreAead, whereItGoes, type TargetVerdict } from './report-issue16.js';
import { aeadSection } from './report-aead.js';
import { breakdownTable } from './breakdown.js';
import { appendMembersSection } from './report-members.js';
import { workersSection } from './report-workers.js';

const ORMS: readonly OrmName[] = ['prisma', 'typeorm', 'mongoose'];
const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined || b <= 0 ? undefined : a / b);
const spread = (r: VariantResult | undefined): string => {
  if (r === undefined) return '—';
  if (r.status === 'n/a') return 'n/a';
  if (r.status === 'error') return 'error';
  const o = r.overheadMicros;
  return o === undefined ? '—' : `${f2(o.median)} (${f2(o.min)}–${f2(o.max)})`;
};
const counter = (r: VariantResult | undefined, key: 'hsmCalls' | 'keyStoreQueries'): string => {
  const c = r?.counters?.[key];
  if (c === undefined) return '—';
  return c.min === c.max ? String(c.median) : `${c.median} (${c.min}–${c.max})`;
};

function readParts(): OrmPart[] {
  if (!existsSync(PARTS_DIR)) return [];
  return readdirSync(PARTS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(PARTS_DIR, f), 'utf8')) as OrmPart)
    .sort((a, b) => ORMS.indexOf(a.orm) - ORMS.indexOf(b.orm));
}

/** The targets of the issue, evaluated on one ORM's results (reported, never asserted). */
function evaluateTargets(part: OrmPart): TargetVerdict[] {
  const orm = part.orm;
  if (part.status !== 'ok') return [{ orm, target: 'all', status: 'n/a', detail: `not measured: ${part.gap ?? 'gap'}` }];
  const out: TargetVerdict[] = [];
  for (const id of ['W1', 'W2', 'W3']) {
    const w = workload(part, id);
    const ks = w?.variants.keystrata;
    const peer = w?.variants.peer;
    const target = `${id}: keystrata overhead < peer overhead`;
    if (peer?.status !== 'ok') {
      out.push({ orm, target, status: 'n/a', detail: `peer ${peer?.status ?? 'missing'}: ${peer?.reason ?? ''}`.trim() });
      continue;
    }
    const k = overhead(ks);
    const p = overhead(peer);
    if (k === undefined || p === undefined) {
      out.push({ orm, target, status: 'n/a', detail: 'no measurement' });
      continue;
    }
    out.push({ orm, target, status: k < p ? 'met' : 'missed', detail: `keystrata ${f2(k)} µs/field vs peer ${f2(p)} µs/field (ratio ${f2(k / p)})` });
  }
  // Issue 16 sets W1 ≤ 1.5 × raw for every adapter and W2 ≤ 1.0 × raw for Prisma and TypeORM (issue16Targets); Mongoose keeps W2 ≤ 1.5 × raw.
  for (const [id, what] of part.orm === 'mongoose' ? ([['W2', 'decryption']] as const) : []) {
    const w = workload(part, id);
    const k = overhead(w?.variants.keystrata);
    const r = overhead(w?.variants.raw);
    const target = `${id}: keystrata overhead ≤ 1.5 × raw AES-256-GCM ${what}`;
    if (k === undefined || r === undefined) {
      out.push({ orm, target, status: 'n/a', detail: 'no measurement' });
      continue;
    }
    out.push({
      orm,
      target,
      status: k <= 1.5 * r ? 'met' : 'missed',
      detail: `keystrata ${f2(k)} µs/field vs raw ${f2(r)} µs/field = ${f2(k / r)} × raw (limit 1.5 ×, i.e. ${f2(1.5 * r)} µs)${whereItGoes(part, 'B2')}`,
    });
  }
  const w2 = workload(part, 'W2')?.variants.keystrata?.counters;
  if (w2 === undefined) out.push({ orm, target: 'W2 warm: 0 HSM calls, ≤ 1 key-store query per result set', status: 'n/a', detail: 'no counters' });
  else
    out.push({
      orm,
      target: 'W2 warm: 0 HSM calls, ≤ 1 key-store query per result set',
      status: w2.hsmCalls.max === 0 && w2.keyStoreQueries.max <= 1 ? 'met' : 'missed',
      detail: `per run (1 result set): HSM calls max ${w2.hsmCalls.max}, key-store queries max ${w2.keyStoreQueries.max} over ${w2.perRound.length} runs`,
    });
  const w4 = workload(part, 'W4')?.variants.keystrata?.counters;
  const target4 = 'W4 cold: one HSM call per KEK version involved';
  if (w4 === undefined) out.push({ orm, target: target4, status: 'n/a', detail: 'no counters' });
  else
    out.push({
      orm,
      target: target4,
      status: w4.hsmCalls.min === part.kekVersions && w4.hsmCalls.max === part.kekVersions ? 'met' : 'missed',
      detail: `HSM calls per cold run ${w4.hsmCalls.min === w4.hsmCalls.max ? w4.hsmCalls.max : `${w4.hsmCalls.min}–${w4.hsmCalls.max}`} for ${part.kekVersions} KEK version(s); key-store queries ${w4.keyStoreQueries.min === w4.keyStoreQueries.max ? w4.keyStoreQueries.max : `${w4.keyStoreQueries.min}–${w4.keyStoreQueries.max}`} for 100 segments`,
    });
  return out;
}

/** The Markdown results table: one line per ORM and workload. */
function resultsTable(parts: readonly OrmPart[]): string {
  const lines = [
    '| ORM | workload | fields | plain µs/field (all-in) | keystrata overhead µs/field | peer overhead µs/field | raw AES-GCM µs/field | keystrata / peer | keystrata / raw | HSM calls | key-store queries |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const part of parts) {
    if (part.status !== 'ok') {
      lines.push(`| ${part.orm} | — | | not measured: ${part.gap ?? ''} | | | | | | | |`);
      continue;
    }
    for (const w of part.workloads.filter((x) => x.id.startsWith('W'))) {
      const v = w.variants;
      const k = overhead(v.keystrata);
      lines.push(
        `| ${part.orm} | ${w.id} ${w.title}${w.note === undefined ? '' : ' †'} | ${w.fields} | ${f2(v.plain?.perFieldMicros?.median)} | ${spread(v.keystrata)} | ${spread(v.peer)} | ${spread(v.raw)} | ${f2(ratio(k, overhead(v.peer)))} | ${f2(ratio(k, overhead(v.raw)))} | ${counter(v.keystrata, 'hsmCalls')} | ${counter(v.keystrata, 'keyStoreQueries')} |`,
      );
    }
  }
  return lines.join('\n');
}

function chart(parts: readonly OrmPart[]): string {
  const panels = parts
    .filter((p) => p.status === 'ok')
    .map((part) =>
      barChart(
        `${part.label}: overhead, µs per field († not drawn)`,
        // Workloads run at another size or layout on this database (†) are labelled, not drawn: their
        // scale (a FerretDB collection scan per query) would flatten every other bar.
        part.workloads
          .filter((w) => w.id.startsWith('W'))
          .map((w) => ({
            label: w.note === undefined ? w.id : `${w.id}†`,
            values: Object.fromEntries((['keystrata', 'peer', 'raw'] as const).map((v) => [v, w.note === undefined ? (overhead(w.variants[v]) ?? null) : null])),
          })),
        ['keystrata', 'peer', 'raw'],
      ),
    );
  return panels.length === 0 ? barChart('no results', [], ['keystrata', 'peer', 'raw']) : stackCharts(panels);
}

function markdown(report: Record<string, unknown>, parts: readonly OrmPart[], targets: readonly TargetVerdict[]): string {
  const m = report.machine as Record<string, unknown>;
  const env = report.environment as Record<string, string>;
  const versions = Object.entries(report.versions as Record<string, string>)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const out: string[] = [
    '# Keystrata benchmark: latest results',
    '',
    `Generated ${String(report.generatedAt)} by \`pnpm bench\` (bench/), commit ${env.commit}.${QUICK ? ' **Quick mode (KEYSTRATA_BENCH_QUICK=1): one round per workload, not a measurement.**' : ''}`,
    '',
    `Machine: ${String(m.cpuModel)}, ${String(m.cpuCount)} CPUs, ${String(m.memoryGiB)} GiB, ${String(m.os)}; Node ${String(m.node)}; ${env.softhsm2 ? `SoftHSM2 ${env.softhsm2}` : ''}.`,
    '',
    `Tools: ${versions}.`,
    '',
    `Data: ${ROWS} rows over ${TENANTS} tenants (segment policy \`{ by: 'tenant' }\`: ${TENANTS} segments), ${FIELDS_PER_ROW} encrypted strings of ${emailOf(0).length} and ${ssnOf(0).length} bytes per row, inserts in batches of ${BATCH}; W3 ${LOOKUPS} lookups; W4 ${COLD_ROWS} rows; W5 a dedicated tenant of ${ROTATION_ROWS} rows. ` +
      `Rounds (warm-up + measured): ${Object.entries(ROUNDS)
        .map(([k, r]) => `${k} ${r.warmup}+${r.rounds}`)
        .join(', ')}; variants interleaved in one process per ORM, order rotated each round. Key cache max age ${CACHE_MAX_AGE_MS / 60_000} min (so "warm" stays warm).`,
    '',
    '## Per-field overhead',
    '',
    'Overhead = (variant − plain) / encrypted fields touched, in µs, paired by round (median, min–max over the measured rounds). ' +
      'raw = Node AES-256-GCM alone on the same values (no ORM), its µs per field. keystrata / peer and keystrata / raw are ratios of the medians. ' +
      'HSM calls and key-store queries: keystrata per run (median, range if it varies), from `hierarchy.stats()` deltas. ' +
      'Fields: W1/W2 20,000 (10,000 rows × 2), W3 2 per lookup (the row returned; the blind-index / hash computation is included in the overhead), W4/W5 2 per row.',
    '',
    resultsTable(parts),
    '',
    '† run at a reduced size or in a different layout on this database: see the notes under Variants below.',
    '',
    '![chart](chart.svg)',
    '',
    '## Where the keystrata overhead goes (breakdown runs B1/B2, same process, interleaved)',
    '',
    'storage = the plain ORM writing/reading the very envelopes and blind indexes keystrata stores (as opaque strings) minus the plain ORM on plaintext, ' +
      "on the write path into a scratch table with the keystrata table's layout and indexes (no index on the encrypted columns, a unique one on the index column), split into the blind-index column alone (plaintext rows plus the stored index, plain layout) and the envelopes (the rest); no crypto runs in either. " +
      'core crypto = `hierarchy.encryptValues` + `blindIndexes` (write, right after its write pointers were refreshed) or `decryptValues` (read) alone on the same values; ' +
      'core key-store check = the same write after a pause of more than `writeRecheckMs` (1 s), minus core crypto: the key-store query that re-reads the write pointers (a revoked or superseded DEK is never written with); ' +
      'adapter = the rest of the keystrata overhead in the same rounds.',
    '',
    breakdownTable(parts),
    '',
    '## Targets (reported, never asserted)',
    '',
    '| ORM | target | status | numbers |',
    '|---|---|---|---|',
    ...targets.map((t) => `| ${t.orm} | ${t.target} | **${t.status}** | ${t.detail} |`),
    '',
    ...issue16Section(parts, readCoreAead()),
    '## Raw primitives on this machine (µs per 40-byte value, single-threaded)',
    '',
    ...Object.entries(report.rawPrimitives as Record<string, number>).map(([k, v]) => `- ${k}: ${v.toFixed(2)}`),
    '',
    '## Variants',
    '',
  ];
  for (const part of parts) {
    out.push(`### ${part.label}${part.status === 'ok' ? '' : ' — not measured'}`, '');
    if (part.gap !== undefined) out.push(`Gap: ${part.gap}`, '');
    out.push(
      `Database: ${part.database}. Versions: ${Object.entries(part.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.`,
      '',
    );
    for (const [variant, text] of Object.entries(part.variants)) out.push(`- **${variant}**: ${text}`);
    const notes = part.workloads.flatMap((w) => [
      ...(w.note === undefined ? [] : [`- ${w.id}: ${w.note}`]),
      ...Object.entries(w.variants)
        .filter(([, r]) => r.note !== undefined || r.status !== 'ok')
        .map(([v, r]) => `- ${w.id} ${v}: ${r.status === 'ok' ? '' : `**${r.status}** — ${r.reason ?? ''}${r.note ? '; ' : ''}`}${r.note ?? ''}`),
    ]);
    if (notes.length > 0) out.push('', ...notes);
    out.push('');
  }
  out.push(...workersSection());
  return out.join('\n');
}

/** Merges results/parts/*.json into results/latest.json, latest.md and chart.svg. */
export function writeReport(): void {
  const parts = readParts();
  for (const orm of ORMS) {
    if (!parts.some((p) => p.orm === orm)) {
      parts.push({
        orm,
        label: orm,
        status: 'gap',
        gap: 'its bench file did not write results (see the vitest output)',
        variants: { plain: '', keystrata: '', peer: '', raw: '' },
        kekVersions: 0,
        database: '—',
        versions: {},
        workloads: [],
        durationMs: 0,
      });
    }
  }
  parts.sort((a, b) => ORMS.indexOf(a.orm) - ORMS.indexOf(b.orm));
  const coreAead = readCoreAead();
  const targets = [...parts.flatMap(evaluateTargets), ...issue16Targets(parts, coreAead)];
  const report = {
    generatedAt: new Date().toISOString(),
    quick: QUICK,
    machine: machine(),
    environment: environment(),
    versions: { vitest: packageVersion('vitest'), typescript: packageVersion('typescript') },
    config: {
      rows: ROWS,
      tenants: TENANTS,
      batch: BATCH,
      lookups: LOOKUPS,
      coldRows: COLD_ROWS,
      rotationRows: ROTATION_ROWS,
      fieldsPerRow: FIELDS_PER_ROW,
      valueBytes: [emailOf(0).length, ssnOf(0).length],
      rounds: ROUNDS,
      cacheMaxAgeMs: CACHE_MAX_AGE_MS,
    },
    rawPrimitives: rawPrimitives(),
    coreAead,
    targets,
    orms: parts,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(RESULTS_DIR, 'latest.md'), `${markdown(report, parts, targets)}\n`);
  appendFileSync(join(RESULTS_DIR, 'latest.md'), revocationSection());
  appendFileSync(join(RESULTS_DIR, 'latest.md'), usageCountingSection());
  appendFileSync(join(RESULTS_DIR, 'latest.md'), aeadSection());
  appendMembersSection(join(RESULTS_DIR, 'latest.md'));
  writeFileSync(join(RESULTS_DIR, 'chart.svg'), `${chart(parts)}\n`);
  console.log(
    `\n${resultsTable(parts)}\n\n${breakdownTable(parts)}\n\n${targets.map((t) => `${t.orm} ${t.target}: ${t.status} (${t.detail})`).join('\n')}\n\n[bench] wrote ${join(RESULTS_DIR, 'latest.md')}`,
  );
}
