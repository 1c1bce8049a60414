import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PARTS_DIR } from './paths.js';

type Spread = { median: number; min: number; max: number };
interface AeadSection {
  readonly quick: boolean;
  readonly values: number;
  readonly micros: Record<string, Spread>;
  readonly cFloor: { sealNs: number; openNs: number; openssl: string } | { gap: string };
  readonly node: string;
  readonly openssl: string;
}

const f2 = (x: number) => x.toFixed(2);

/** The issue 16 section of latest.md, from src/aead.bench.ts's results (empty when it did not run). */
export function aeadSection(): string {
  const file = join(PARTS_DIR, 'sections', 'aead.json');
  if (!existsSync(file)) return '';
  const s = JSON.parse(readFileSync(file, 'utf8')) as AeadSection;
  const m = (name: string) => s.micros[name]?.median ?? Number.NaN;
  const rawEncrypt = m('raw node:crypto: encrypt per value');
  const rawDecrypt = m('raw node:crypto: decrypt per value');
  const rows = Object.entries(s.micros).map(([name, spread]) => {
    const base = /decrypt|B2|open/.test(name) ? rawDecrypt : rawEncrypt;
    return `| ${name} | ${f2(spread.median)} (${f2(spread.min)}–${f2(spread.max)}) | ${f2(spread.median / base)} |`;
  });
  const floor =
    'gap' in s.cFloor
      ? `C loop floor: not measured (${s.cFloor.gap}).`
      : `C loop floor (OpenSSL EVP, one context per key, IV set per value, no Node; ${s.cFloor.openssl}): seal ${f2(s.cFloor.sealNs / 1000)} µs, open ${f2(s.cFloor.openNs / 1000)} µs per value.`;
  return [
    '',
    '## Native batch AES-GCM (issue 16, `src/aead.bench.ts`)',
    '',
    `${s.values.toLocaleString('en')} values of 40 bytes over 100 segments, one process, variants interleaved round by round${s.quick ? ' (QUICK: one round, not a measurement)' : ''}. Node ${s.node}, OpenSSL ${s.openssl}.`,
    'Ratios are to raw node:crypto per value (encrypt for write rows, decrypt for read rows); B1 includes the blind index of one field in two.',
    '',
    '| variant | µs per value, median (min–max) | × raw node:crypto |',
    '| --- | ---: | ---: |',
    ...rows,
    '',
    floor,
    '',
  ].join('\n');
}
