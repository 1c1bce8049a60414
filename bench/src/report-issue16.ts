/**
 * Issue 16's "Must show" targets as verdict rows, and its section of latest.md: the core alone on
 * each AEAD path (native and the node:crypto fallback) beside the hardware floor.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyHierarchy } from '@keystrata/core';
import { f2, overhead, workload } from './report-values.js';
import type { OrmName, OrmPart } from './part.js';
import { PARTS_DIR } from './paths.js';
import { breakdownOf } from './breakdown.js';

/** One target's verdict ('info': reported for the reader, not a target). */
export interface TargetVerdict {
  readonly orm: OrmName | 'core';
  readonly target: string;
  readonly status: 'met' | 'missed' | 'n/a' | 'info';
  readonly detail: string;
}

/** One process of scripts/core-aead.mjs. */
export interface CorePathRun {
  readonly label: string;
  readonly env: Readonly<Record<string, string>>;
  readonly status: 'ok' | 'error';
  readonly reason?: string;
  /** `hierarchy.stats().aead` in that process; null when the core of this build reports none (node:crypto only). */
  readonly aead?: string | null;
  readonly values?: number;
  readonly rounds?: number;
  readonly micros?: Readonly<Record<'coreSeal' | 'coreEncryptOnly' | 'coreOpen' | 'rawSeal' | 'rawOpen', { median: number; min: number; max: number }>>;
}

/** A floor measurement: ns per value (seal, and open where measured). */
export interface FloorRun {
  readonly status: 'ok' | 'error';
  readonly reason?: string;
  readonly sealNs?: number;
  readonly openNs?: number;
  readonly detail?: string;
}

/** What src/core-aead.bench.ts writes. */
export interface CoreAeadPart {
  readonly generatedAt: string;
  readonly quick: boolean;
  readonly paths: readonly CorePathRun[];
  readonly floor: { readonly cLoop: FloorRun; readonly openssl64: FloorRun; readonly opensslBulk: FloorRun };
}

/** Where issue 16's own results go (a folder of the parts directory: cleared per run, not read as an ORM part). */
export const ISSUE16_DIR = join(PARTS_DIR, 'issue16');
export const CORE_AEAD_FILE = join(ISSUE16_DIR, 'core-aead.json');

const PEERS: Readonly<Record<OrmName, string>> = { prisma: 'prisma-field-encryption', typeorm: 'typeorm-encrypted', mongoose: 'mongoose-field-encryption' };
/** A keystrata overhead at or below zero is noise (a loaded machine, one quick round): no verdict from it. */
const noise = (k: number): string | undefined => (k <= 0 ? `keystrata overhead ${f2(k)} µs/field is not above plain: noise (a loaded machine or a quick run), no verdict` : undefined);

/**
 * The AEAD path a hierarchy reports (`stats().aead`), or a label saying this build has only node:crypto.
 *
 * @example
 * ```ts
 * writePart({ …, aead: aeadPath(hierarchy) });
 * ```
 */
export function aeadPath(hierarchy: KeyHierarchy): string {
  const aead = (hierarchy.stats() as { aead?: unknown }).aead;
  return typeof aead === 'string' ? aead : 'node:crypto (this build reports no aead path)';
}

/** The core-alone results of the last run, if its bench file ran. */
export function readCoreAead(): CoreAeadPart | undefined {
  return existsSync(CORE_AEAD_FILE) ? (JSON.parse(readFileSync(CORE_AEAD_FILE, 'utf8')) as CoreAeadPart) : undefined;
}

/**
 * The breakdown run's split of the overhead, as a clause for a target's detail (empty without one).
 *
 * @example
 * ```ts
 * `${detail}${whereItGoes(part, 'B2')}`; // "; in B2: the ORM storing keystrata's values 0.06 (…), core decrypt 1.41 (…), adapter 0.92"
 * ```
 */
export function whereItGoes(part: OrmPart, id: 'B1' | 'B2'): string {
  const b = breakdownOf(part, id);
  if (b === undefined) return '';
  const what = id === 'B1' ? 'encrypt + blind index' : 'decrypt';
  const storage = b.indexColumn === undefined ? f2(b.storage) : `${f2(b.storage)} (index column ${f2(b.indexColumn)}, envelopes ${f2(b.biggerValues)})`;
  const check = b.coreCheck === undefined ? '' : `, core key-store check ${f2(b.coreCheck.micros)}`;
  return `; in ${id}: the ORM storing keystrata's values ${storage}, core ${what} ${f2(b.coreCrypto)} (${f2(b.coreCrypto / b.raw)} × raw ${f2(b.raw)})${check}, adapter ${f2(b.adapter)}`;
}

/** When the ORM storing keystrata's values, with no crypto at all, already costs at least `limit`: a clause saying so. */
function storageBound(part: OrmPart, id: 'B1' | 'B2', limit: number, what: string): string {
  const b = breakdownOf(part, id);
  return b !== undefined && b.storage >= limit ? ` — storage-bound: the ORM storing keystrata's values with no crypto at all costs ${f2(b.storage)} µs/field, ${f2(b.storage / limit)} × ${what}` : '';
}

function belowEveryPeer(part: OrmPart, parts: readonly OrmPart[], id: string): TargetVerdict {
  const target = `issue 16 ${id}: overhead < every peer's (all three ORMs' peers)`;
  const k = overhead(workload(part, id)?.variants.keystrata);
  const peers = parts.flatMap((p) => {
    const o = p.status === 'ok' ? overhead(workload(p, id)?.variants.peer) : undefined;
    return o === undefined ? [] : [{ name: PEERS[p.orm], own: p.orm === part.orm, o }];
  });
  if (k === undefined || peers.length === 0) return { orm: part.orm, target, status: 'n/a', detail: k === undefined ? 'no keystrata measurement' : 'no peer measured' };
  if (noise(k) !== undefined) return { orm: part.orm, target, status: 'n/a', detail: noise(k)! };
  const lowest = Math.min(...peers.map((p) => p.o));
  const list = peers.map((p) => `${p.name}${p.own ? ' (own)' : ''} ${f2(p.o)}`).join(', ');
  const bound = k < lowest || id === 'W4' ? '' : storageBound(part, id === 'W1' ? 'B1' : 'B2', lowest, 'the lowest peer');
  return { orm: part.orm, target, status: k < lowest ? 'met' : 'missed', detail: `keystrata ${f2(k)} µs/field vs peers ${list} (ratio to the lowest ${f2(k / lowest)})${bound}` };
}

function timesRaw(part: OrmPart, id: 'W1' | 'W2', limit: number): TargetVerdict {
  const target = `issue 16 ${id}: overhead ≤ ${limit.toFixed(1)} × raw node:crypto`;
  const w = workload(part, id);
  const [k, r] = [overhead(w?.variants.keystrata), overhead(w?.variants.raw)];
  if (k === undefined || r === undefined) return { orm: part.orm, target, status: 'n/a', detail: 'no measurement' };
  if (noise(k) !== undefined) return { orm: part.orm, target, status: 'n/a', detail: noise(k)! };
  return {
    orm: part.orm,
    target,
    status: k <= limit * r ? 'met' : 'missed',
    detail: `keystrata ${f2(k)} vs raw ${f2(r)} µs/field = ${f2(k / r)} × raw (limit ${f2(limit * r)} µs)${whereItGoes(part, id === 'W1' ? 'B1' : 'B2')}${k <= limit * r ? '' : storageBound(part, id === 'W1' ? 'B1' : 'B2', limit * r, 'the limit')}`,
  };
}

function coreInRun(part: OrmPart, id: 'B1' | 'B2'): TargetVerdict {
  const target = `issue 16 ${id}: core alone ≤ 0.3 × raw node:crypto (${id === 'B1' ? 'encrypt + blind index' : 'decrypt'})`;
  const b = breakdownOf(part, id);
  if (b === undefined) return { orm: part.orm, target, status: 'n/a', detail: 'no breakdown run' };
  const [c, r] = [b.coreCrypto, b.raw];
  const check =
    b.coreCheck === undefined
      ? ''
      : `; after a pause the same write also re-reads its write pointers: + ${f2(b.coreCheck.micros)} µs/value (${b.coreCheck.queries} key-store queries per run) = ${f2((c + b.coreCheck.micros) / r)} × raw`;
  return {
    orm: part.orm,
    target,
    status: c <= 0.3 * r ? 'met' : 'missed',
    detail: `core crypto ${f2(c)} vs raw ${f2(r)} µs/value = ${f2(c / r)} × raw, AEAD path: ${part.aead ?? 'not recorded'}${check}`,
  };
}

/** The core-alone rows of the separate processes: the default path as a target, the forced fallback reported. */
function corePathRows(core: CoreAeadPart | undefined): TargetVerdict[] {
  if (core === undefined) return [{ orm: 'core', target: 'issue 16: core alone per AEAD path', status: 'n/a', detail: 'src/core-aead.bench.ts did not run' }];
  const { cLoop, openssl64 } = core.floor;
  const floor = `; hardware floor per value: C loop over EVP ${cLoop.status === 'ok' ? `${f2(cLoop.sealNs! / 1000)} µs seal, ${f2(cLoop.openNs! / 1000)} µs open` : 'not measured'}, openssl speed at 64 bytes ${openssl64.status === 'ok' ? `${f2(openssl64.sealNs! / 1000)} µs` : 'not measured'}`;
  return core.paths.flatMap((p): TargetVerdict[] => {
    const path = `${p.label}: ${p.aead ?? 'node:crypto (no aead in stats())'}`;
    if (p.status !== 'ok' || p.micros === undefined) return [{ orm: 'core', target: `issue 16 core alone, ${path}`, status: 'n/a', detail: p.reason ?? 'failed' }];
    const m = p.micros;
    const fallback = p.label !== 'default';
    return (
      [
        ['seal (encrypt + blind index)', m.coreSeal.median, m.rawSeal.median],
        ['open (decrypt)', m.coreOpen.median, m.rawOpen.median],
      ] as const
    ).map(([what, c, r]) => ({
      orm: 'core' as const,
      target: `issue 16 core alone ${what} ≤ 0.3 × raw, ${path}${fallback ? ' (reported, not a target)' : ''}`,
      status: fallback ? ('info' as const) : c <= 0.3 * r ? ('met' as const) : ('missed' as const),
      detail: `${f2(c)} vs raw ${f2(r)} µs/value = ${f2(c / r)} × raw${floor}`,
    }));
  });
}

/**
 * Issue 16's targets: every adapter below every peer on W1, W2 and W4; W2 ≤ 1.0 × raw for Prisma
 * and TypeORM; W1 ≤ 1.5 × raw for all three; the core alone (B1/B2 and its own processes) ≤ 0.3 × raw.
 *
 * @example
 * ```ts
 * const rows = issue16Targets(parts, readCoreAead());
 * ```
 */
export function issue16Targets(parts: readonly OrmPart[], core: CoreAeadPart | undefined): TargetVerdict[] {
  const out: TargetVerdict[] = [];
  for (const part of parts.filter((p) => p.status === 'ok')) {
    for (const id of ['W1', 'W2', 'W4']) out.push(belowEveryPeer(part, parts, id));
    if (part.orm !== 'mongoose') out.push(timesRaw(part, 'W2', 1.0));
    out.push(timesRaw(part, 'W1', 1.5));
    out.push(coreInRun(part, 'B1'), coreInRun(part, 'B2'));
  }
  return [...out, ...corePathRows(core)];
}

function floorLine(name: string, f: FloorRun, what: string): string {
  if (f.status !== 'ok') return `- ${name}: not measured (${f.reason ?? 'error'})`;
  return `- ${name}: ${f2(f.sealNs)} ns${f.openNs === undefined ? '' : ` seal, ${f2(f.openNs)} ns open`} ${what} (${f.detail ?? ''})`;
}

/**
 * The Markdown section: the core alone per AEAD path against raw node:crypto, and the floor.
 *
 * @example
 * ```ts
 * out.push(...issue16Section(parts, readCoreAead()));
 * ```
 */
export function issue16Section(parts: readonly OrmPart[], core: CoreAeadPart | undefined): string[] {
  const out = ['## Issue 16: the core alone per AEAD path, the fallback and the hardware floor', ''];
  out.push(`AEAD path of each ORM run above (\`hierarchy.stats().aead\`): ${parts.map((p) => `${p.orm} ${p.aead ?? 'not recorded'}`).join('; ')}.`, '');
  if (core === undefined) return [...out, 'src/core-aead.bench.ts did not run: no core-alone or floor numbers.', ''];
  out.push(
    'The core alone on the bench values (20,000 values of 40 bytes over 100 segments, warm cache), each path in its own process, interleaved with raw node:crypto in that process. ' +
      "seal = `encryptValues` + `blindIndexes` (10,000 e-mails) per encrypted value (B1's core); open = `decryptValues` (B2's core). µs per value, median (min–max).",
    '',
    '| run | AEAD path | core seal | core encrypt only | core open | raw encrypt | raw decrypt | seal / raw | open / raw |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|',
  );
  const s = (x: { median: number; min: number; max: number } | undefined) => (x === undefined ? '—' : `${f2(x.median)} (${f2(x.min)}–${f2(x.max)})`);
  for (const p of core.paths) {
    const env = Object.entries(p.env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    if (p.status !== 'ok' || p.micros === undefined) {
      out.push(`| ${p.label}${env ? ` (${env})` : ''} | — | error: ${p.reason ?? ''} | | | | | | |`);
      continue;
    }
    const m = p.micros;
    out.push(
      `| ${p.label}${env ? ` (${env})` : ''} | ${p.aead ?? 'node:crypto (no aead in stats())'} | ${s(m.coreSeal)} | ${s(m.coreEncryptOnly)} | ${s(m.coreOpen)} | ${s(m.rawSeal)} | ${s(m.rawOpen)} | ${f2(m.coreSeal.median / m.rawSeal.median)} | ${f2(m.coreOpen.median / m.rawOpen.median)} |`,
    );
  }
  const [first, second] = core.paths;
  if (first?.aead === second?.aead)
    out.push('', `Both runs report the same path (${first?.aead ?? 'none: this build has only node:crypto'}): what a user without the native addon gets is the first row.`);
  out.push(
    '',
    'Hardware floor (AES-256-GCM, single thread):',
    '',
    floorLine('C loop over OpenSSL EVP, one context per key, only the IV set per value (bench/floor/gcm-floor.c)', core.floor.cLoop, 'per 40-byte value with 40 bytes of AAD'),
    floorLine(
      '`openssl speed -evp aes-256-gcm -bytes 64`',
      core.floor.openssl64,
      'per 64-byte operation; OpenSSL 3.0 re-initialises the context for every operation here, so this overstates the per-value floor (understates the hardware)',
    ),
    floorLine(
      '`openssl speed -evp aes-256-gcm -bytes 16384` (bulk throughput)',
      core.floor.opensslBulk.status === 'ok' ? { ...core.floor.opensslBulk, sealNs: (core.floor.opensslBulk.sealNs! * 64) / 16_384 } : core.floor.opensslBulk,
      'per 64 bytes at the bulk rate (no per-value setup at all)',
    ),
    '',
  );
  return out;
}
