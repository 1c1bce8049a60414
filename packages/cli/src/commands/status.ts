import type { HierarchyStatus, RotationProgress } from '@keystrata/core';
import type { Command, CommandContext } from '../context.js';
import { renderPolicy } from './policy.js';
import { openRotationQueue } from '../worker-setup.js';

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

/**
 * The lines of `keystrata status` for DEK rotations run by workers: per rotation its jobs done out
 * of all (batches and the finish), those a worker holds now, and those given up.
 *
 * @example
 * ```ts
 * console.log(renderRotations(await queue.progress()));
 * ```
 */
export function renderRotations(rotations: readonly RotationProgress[]): string {
  if (rotations.length === 0) return 'DEK rotations in the job queue: none';
  return [
    'DEK rotations in the job queue (batches and finish, across every worker):',
    ...rotations.map(
      (r) =>
        `  segment "${r.segment ?? '?'}" (keyring ${r.keyring ?? '?'}): ${r.done}/${r.total} done, ${r.active} held by workers${r.failed > 0 ? `, ${r.failed} given up (the finish's verification re-encrypts their rows)` : ''}`,
    ),
  ].join('\n');
}

/** Progress of worker rotations, read only when workers are configured (`worker` in the config) on a PostgreSQL or MongoDB key store. */
async function rotationProgress(c: CommandContext): Promise<RotationProgress[] | undefined> {
  if (c.config.config.worker === undefined || !/^(postgres(ql)?|mongodb(\+srv)?):\/\//.test(c.config.config.keyStore?.url ?? '')) return undefined;
  const { queue } = await openRotationQueue(c.config);
  try {
    return await queue.progress();
  } finally {
    await queue.close();
  }
}

/** `keystrata status`: the hierarchy with key states and counters. */
export const status: Command = {
  usage: 'status',
  summary:
    'Show CMKs, KEK versions, DEK counts by state, the blind-index key, destroyed keys (durable or awaiting a shred epoch), rotation policies (next rotations, DEK usage), cache statistics, and DEK rotations run by workers (when `worker` is configured).',
  async run(c) {
    const hierarchyStatus = await (await c.hierarchy()).status();
    const rotations = await rotationProgress(c);
    if (rotations === undefined) c.out.result(hierarchyStatus, renderStatus);
    else c.out.result({ ...hierarchyStatus, rotations }, () => `${renderStatus(hierarchyStatus)}\n${renderRotations(rotations)}`);
  },
};
