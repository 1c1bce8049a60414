import { KeystrataError, type PolicyStatus, type RotationPolicyChange } from '@keystrata/core';
import type { Command, CommandContext } from '../context.js';
import { flag, keyringFlag } from '../flags.js';

const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * Parses a validity period flag: `90d`, `12h`, `30m`, `45s` or plain seconds; `none` removes the rule.
 *
 * @example
 * ```ts
 * parseDuration('--kek-validity', '90d'); // 7776000
 * parseDuration('--dek-validity', 'none'); // null
 * ```
 */
function parseDuration(name: string, text: string): number | null {
  if (text === 'none') return null;
  const match = /^(\d+)([smhd]?)$/.exec(text);
  const seconds = match === null ? Number.NaN : Number(match[1]) * UNITS[match[2] || 's']!;
  if (!Number.isSafeInteger(seconds) || seconds < 1) throw new KeystrataError('CONFIG_INVALID', `${name} must be a period such as 90d, 12h, 30m or 45s (or seconds), or "none" to remove the rule.`);
  return seconds;
}

/** A whole-number flag that takes `none` to remove the rule. */
function limitFlag(name: string, text: string): number | null {
  if (text === 'none') return null;
  if (!/^\d+$/.test(text)) throw new KeystrataError('CONFIG_INVALID', `${name} must be a whole number of encryptions (at most 1073741824), or "none" for the default 2^30.`);
  return Number(text);
}

/** The change `policy set` asks for; at least one rule. */
function policyChange(c: CommandContext): RotationPolicyChange {
  const kek = flag(c, 'kek-validity');
  const dek = flag(c, 'dek-validity');
  const limit = flag(c, 'dek-usage-limit');
  if (kek === undefined && dek === undefined && limit === undefined) {
    throw new KeystrataError('CONFIG_INVALID', 'Name at least one rule: --kek-validity <period>, --dek-validity <period> or --dek-usage-limit <n> ("none" removes one).');
  }
  const keyring = keyringFlag(c);
  return {
    ...(keyring === undefined ? {} : { keyring }),
    ...(kek === undefined ? {} : { kekValiditySeconds: parseDuration('--kek-validity', kek) }),
    ...(dek === undefined ? {} : { dekValiditySeconds: parseDuration('--dek-validity', dek) }),
    ...(limit === undefined ? {} : { dekUsageLimit: limitFlag('--dek-usage-limit', limit) }),
  };
}

/** Seconds as the largest whole unit (`90d`, `12h`, `45s`). */
const period = (seconds: number | null): string => {
  if (seconds === null) return 'none';
  const unit = (['d', 'h', 'm'] as const).find((u) => seconds % UNITS[u]! === 0);
  return unit === undefined ? `${seconds}s` : `${seconds / UNITS[unit]!}${unit}`;
};

/**
 * The policy lines of one keyring in `keystrata status` and `keystrata policy show`.
 *
 * @example
 * ```ts
 * console.log(renderPolicy(status.keyrings[0].policy).join('\n'));
 * ```
 */
export function renderPolicy(s: PolicyStatus): string[] {
  const p = s.policy;
  const lines = [
    `  policy: KEK validity ${period(p.kekValiditySeconds)}${s.nextKekRotation ? ` (next rotation ${s.nextKekRotation})` : ''}; DEK validity ${period(p.dekValiditySeconds)}${s.nextDekRotation ? ` (next ${s.nextDekRotation}; ${s.deksPastValidity} past it)` : ''}; DEK usage limit ${p.dekUsageLimit}${p.usageLimitIsDefault ? ' (default)' : ''}`,
    `  usage: ${s.usesReserved} uses reserved over the primary DEKs${s.mostUsed ? `; most used: segment "${s.mostUsed.segment}" ${s.mostUsed.uses}/${p.dekUsageLimit}` : ''}`,
  ];
  if (s.pendingReencryptions.length > 0)
    lines.push(`  re-encryption queued for ${s.pendingReencryptions.length} segment(s): ${s.pendingReencryptions.slice(0, 10).join(', ')} (run the application's rotateDek, or the workers)`);
  return lines;
}

/**
 * `keystrata policy set|show|enforce`: rotation policies per keyring (docs/rotation-policies.md).
 * `set` validates every rule before storing anything; `enforce` performs the due rotations, each
 * exactly once across all instances (rotation leases), and can run from cron on any machine.
 */
export const policy: Command = {
  usage: 'policy set|show|enforce [--keyring <k>] [--kek-validity 90d] [--dek-validity 365d] [--dek-usage-limit <n>]',
  summary: 'Rotation policies per keyring: KEK/DEK validity periods and the DEK usage limit; show when rotations are due; enforce due rotations (exactly once across instances).',
  async run(c) {
    const which = c.positionals[0];
    if (which !== 'set' && which !== 'show' && which !== 'enforce') throw new KeystrataError('CONFIG_INVALID', 'Usage: keystrata policy set|show|enforce');
    const change = which === 'set' ? policyChange(c) : undefined;
    const hierarchy = await c.hierarchy();
    const keyring = keyringFlag(c) ?? hierarchy.defaultKeyring;
    if (change !== undefined) await hierarchy.policies.set(change);
    if (which === 'enforce') {
      const result = await hierarchy.policies.enforce(keyring);
      c.out.result(
        result,
        () =>
          `keyring ${keyring}: ${result.kekRotated === null ? 'no KEK rotation due' : `KEK rotated to v${result.kekRotated}`}; ${result.deksRotated.length} DEK(s) rotated; ${result.pendingReencryptions.length} segment(s) awaiting re-encryption.`,
      );
      return;
    }
    const status = (await hierarchy.status()).keyrings.find((k) => k.keyring === keyring)?.policy;
    if (status === undefined) throw new KeystrataError('KEY_NOT_FOUND', `Keyring "${keyring}" does not exist; run \`keystrata init\` for it.`, { details: { keyring } });
    c.out.result(status, () => [`keyring ${keyring}`, ...renderPolicy(status)].join('\n'));
  },
};
