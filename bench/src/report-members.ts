import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_DIR } from './paths.js';

/** Where members.bench.ts writes its results (apart from the ORM parts, which the main report merges). */
export const MEMBERS_PART = join(RESULTS_DIR, 'parts-members', 'members.json');

/** One root layout's cold-read numbers. */
export interface MembersVariant {
  readonly name: string;
  readonly description: string;
  readonly microsPerColdRead: number;
  readonly minMicros: number;
  readonly maxMicros: number;
  /** Median HSM calls answered by each member in one round (one cold read per KEK version). */
  readonly hsmCallsPerMember: readonly number[];
}

/** What members.bench.ts measured. */
export interface MembersPart {
  readonly generatedAt: string;
  readonly quick: boolean;
  readonly kekVersions: number;
  readonly valuesPerKek: number;
  readonly rounds: { readonly warmup: number; readonly rounds: number };
  readonly variants: readonly MembersVariant[];
}

/**
 * The markdown section of the members bench (issue 14): µs per cold read and HSM calls per member,
 * as ratios to the one-token root measured in the same run. Empty when the bench did not run.
 *
 * @example
 * ```ts
 * console.log(membersSection());
 * ```
 */
function membersSection(): string {
  if (!existsSync(MEMBERS_PART)) return '';
  const part = JSON.parse(readFileSync(MEMBERS_PART, 'utf8')) as MembersPart;
  const base = part.variants.find((v) => v.name === 'one')?.microsPerColdRead;
  const rows = part.variants.map(
    (v) =>
      `| ${v.description} | ${v.microsPerColdRead.toFixed(1)} (${v.minMicros.toFixed(1)}–${v.maxMicros.toFixed(1)}) | ${base === undefined ? '—' : (v.microsPerColdRead / base).toFixed(2)} | ${v.hsmCallsPerMember.join(' / ')} |`,
  );
  return [
    '',
    '## Root members: cold reads on one HSM vs two members (issue 14)',
    '',
    `Each round clears the key cache and decrypts ${part.kekVersions * part.valuesPerKek} values under ${part.kekVersions} KEK versions: one cold read (key-store query + KEK unwrap in the HSM) per KEK version; µs per cold read, median (min–max) over ${part.rounds.rounds} rounds after ${part.rounds.warmup} warm-up, variants interleaved in one process. SoftHSM2 runs in process on the JavaScript thread, so two members spread the calls but do not run them in parallel; a network HSM pair would.${part.quick ? ' **Quick mode: not a measurement.**' : ''}`,
    '',
    '| root | µs per cold read | × one token | HSM calls per member per round |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/**
 * Appends {@link membersSection} to the report file (called by the main report after it writes latest.md).
 *
 * @example
 * ```ts
 * appendMembersSection(join(RESULTS_DIR, 'latest.md'));
 * ```
 */
export function appendMembersSection(file: string): void {
  const section = membersSection();
  if (section !== '') appendFileSync(file, `${section}\n`);
}
