import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PARTS_DIR } from './paths.js';
import type { Summary } from './stats.js';

/** Where usage-counting.bench.ts writes its results (a subfolder: parts/*.json are the ORM parts). */
export const USAGE_COUNTING_PART = join(PARTS_DIR, 'sections', 'usage-counting.json');

interface UsageCountingPart {
  readonly quick: boolean;
  readonly values: number;
  readonly batch: number;
  readonly segments: number;
  readonly micros: Readonly<Record<'off' | 'default' | 'policy', Summary>>;
  readonly ratios: Readonly<Record<'default' | 'policy', Summary>>;
  readonly reservations: number;
  readonly reserved: number;
  readonly used: number;
}

const f = (s: Summary, digits = 2): string => `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;

/**
 * The "DEK usage counting" section of latest.md (issue 15 §3), from the usage-counting bench's part;
 * empty when that bench did not run.
 *
 * @example
 * ```ts
 * appendFileSync('results/latest.md', usageCountingSection());
 * ```
 */
export function usageCountingSection(): string {
  if (!existsSync(USAGE_COUNTING_PART)) return '';
  const p = JSON.parse(readFileSync(USAGE_COUNTING_PART, 'utf8')) as UsageCountingPart;
  return [
    '',
    '## DEK usage counting (issue 15 §3, rotation policies)',
    '',
    `\`hierarchy.encryptValues\`, warm, ${p.values} values per round in batches of ${p.batch} over ${p.segments} segments, SQLite key store; µs per value (median, min–max)${p.quick ? ' — quick mode, not a measurement' : ''}. ` +
      'off = the policy hook replaced by a no-op (the encrypt path without rotation policies); default = counting at the default limit 2^30; policy = KEK and DEK validity periods and a usage limit. Ratio = variant / off, paired by round.',
    '',
    '| variant | µs per value | ratio to off |',
    '|---|---|---|',
    `| off | ${f(p.micros.off)} | 1 |`,
    `| default | ${f(p.micros.default)} | ${f(p.ratios.default, 3)} |`,
    `| policy | ${f(p.micros.policy)} | ${f(p.ratios.policy, 3)} |`,
    '',
    `Key-store writes for counting: ${p.reservations} block reservations for ${p.used} values counted (${p.reserved} uses reserved).`,
    '',
  ].join('\n');
}
