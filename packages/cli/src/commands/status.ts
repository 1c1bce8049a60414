import type { HierarchyStatus } from '@keystrata/core';
import type { Command } from '../context.js';
import { renderPolicy } from './policy.js';

/**
 * The text of `keystrata status`: per keyring its CMKs, KEKs, DEK counts by state, the blind-index
 * key apart (it encrypts no data), destroyed keys; then the cache counters and which AES-GCM
 * implementation encrypts field values (the native addon or node:crypto).
 *
 * @example
 * ```ts
 * console.log(renderStatus(await hierarchy.status()));
 * ```
 */
export function renderStatus(s: HierarchyStatus): string {
  const lines = [`root: ${s.root}`];
  for (const k of s.keyrings) {
    lines.push(`keyring ${k.keyring}`);
    for (const c of k.cmks) lines.push(`  CMK v${c.version}  ${c.state.padEnd(9)} ${c.hsmLabel}`);
    for (const e of k.keks) lines.push(`    KEK v${e.version}  ${e.state.padEnd(9)} wrapped by CMK v${e.cmkVersion}`);
    const deks = Object.entries(k.deks)
      .map(([state, n]) => `${n} ${state}`)
      .join(', ');
    lines.push(`      DEKs: ${deks || 'none yet'}`);
    const index = Object.entries(k.blindIndexKeys)
      .map(([state, n]) => `${n} ${state}`)
      .join(', ');
    if (index) lines.push(`      blind-index key: ${index} (derives blind-index HMAC keys; not a DEK)`);
    if (k.policy !== undefined) lines.push(...renderPolicy(k.policy));
    const shreds = k.shreds;
    if (shreds.epochRunningSince) lines.push(`  shred epoch running or interrupted (last progress ${shreds.epochRunningSince}): \`keystrata shred complete\` finishes it`);
    if (shreds.durable + shreds.pending > 0) {
      lines.push(
        `  shredded: ${shreds.durable} durably gone${shreds.lastDurableAt ? ` (last epoch ${shreds.lastDurableAt})` : ''}; ${shreds.pending} awaiting a shred epoch${shreds.pendingSince ? ` since ${shreds.pendingSince}: run \`keystrata shred complete\`` : ''}`,
      );
      for (const t of shreds.keys) {
        const what = t.kind === 'dek' ? `DEK ${t.id} (segment "${t.segment}")` : `${t.kind.toUpperCase()} v${t.id}`;
        lines.push(`    ${what}  destroyed ${t.destroyedAt}  ${t.durableAt ? `durable since ${t.durableAt}` : 'pending'}`);
      }
    }
  }
  const { deks, keks, hsmCalls, keyStoreQueries } = s.stats;
  for (const m of s.stats.hsmMembers ?? []) {
    lines.push(`member ${m.name.padEnd(12)} ${m.state.padEnd(9)}${m.reason ? ` (${m.reason})` : ''} calls ${m.calls}, failovers ${m.failovers}`);
  }
  lines.push(`cache: ${deks.size} DEKs, ${keks.size} KEKs; hits ${deks.hits + keks.hits}, misses ${deks.misses + keks.misses}; HSM calls ${hsmCalls}; key-store queries ${keyStoreQueries}`);
  lines.push(
    s.stats.aead === 'native'
      ? 'field encryption: AES-256-GCM in native batches (@keystrata/native)'
      : 'field encryption: AES-256-GCM via node:crypto (the @keystrata/native addon is not in use: same ciphertext, slower; see its README)',
  );
  return lines.join('\n');
}

/** `keystrata status`: the hierarchy with key states and counters. */
export const status: Command = {
  usage: 'status',
  summary:
    'Show CMKs, KEK versions, DEK counts by state, the blind-index key, destroyed keys (durable or awaiting a shred epoch), rotation policies (next rotations, DEK usage), and cache statistics.',
  async run(c) {
    c.out.result(await (await c.hierarchy()).status(), renderStatus);
  },
};
