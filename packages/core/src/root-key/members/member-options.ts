import { KeystrataError } from '../../errors/keystrata-error.js';
import type { RootKey } from '../root-key.js';

/**
 * `cloned`: the same CMK objects on every member (vendor cloning). `independent`: each member its own CMK, a KEK copy per member.
 *
 * @example
 * ```ts
 * const kind: MemberKind = 'independent'; // or 'cloned', when the vendor's tools clone the CMKs to every token
 * const rootKey = MemberRootKey.create({ kind, members });
 * ```
 */
export type MemberKind = 'cloned' | 'independent';

/**
 * One member of a {@link MemberRootKey}: opened, or (with `open`) to be opened by the background probe.
 *
 * @example
 * ```ts
 * const members: RootMemberOptions[] = [
 *   { name: 'hsm-a', rootKey: await Pkcs11RootKey.open(hsmAOptions) },
 *   { name: 'dr-site', open: () => Pkcs11RootKey.open(drOptions), reason: 'HSM_UNAVAILABLE' }, // opened later by the probe
 * ];
 * ```
 */
export interface RootMemberOptions {
  /** A short stable name (1–64 of letters, digits, `.`, `_`, `-`): independent members' copies are stored under it. */
  readonly name: string;
  readonly rootKey?: RootKey | undefined;
  /** Opens the member when it could not be opened yet (it is unhealthy until this succeeds). */
  readonly open?: (() => Promise<RootKey>) | undefined;
  /** Why it is not opened (an error code), for status output. */
  readonly reason?: string | undefined;
}

/**
 * Options of {@link MemberRootKey.create}.
 *
 * @example
 * ```ts
 * const options: MemberRootKeyOptions = { kind: 'independent', members, probeIntervalMs: 10_000, plainCopyMember: 'hsm-a' };
 * const rootKey = MemberRootKey.create(options);
 * const hierarchy = await KeyHierarchy.create({ rootKey, keyStore });
 * ```
 */
export interface MemberRootKeyOptions {
  readonly kind: MemberKind;
  readonly members: readonly RootMemberOptions[];
  /** How often unhealthy members are probed (default 5000 ms; the timer never keeps the process alive). */
  readonly probeIntervalMs?: number;
  /** Independent: whose copy a plain wrapped KEK (from a single-member root) is (default the first member). */
  readonly plainCopyMember?: string;
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Validates the options of a root made of several members, once, with `CONFIG_INVALID` naming the option.
 *
 * @example
 * ```ts
 * checkMemberRootKeyOptions({ kind: 'cloned', members: [{ name: 'hsm-a', rootKey }] });
 * ```
 */
export function checkMemberRootKeyOptions(options: MemberRootKeyOptions): void {
  const invalid = (message: string): never => {
    throw new KeystrataError('CONFIG_INVALID', message);
  };
  if (typeof options !== 'object' || options === null) invalid('A root of members needs an options object { kind, members }.');
  if (options.kind !== 'cloned' && options.kind !== 'independent') invalid('members kind must be "cloned" or "independent".');
  if (!Array.isArray(options.members) || options.members.length === 0 || options.members.length > 16) invalid('members must list 1 to 16 members.');
  const names = new Set<string>();
  for (const member of options.members) {
    if (typeof member?.name !== 'string' || !NAME.test(member.name)) invalid('Each member needs a name of 1 to 64 letters, digits, ".", "_" or "-".');
    if (names.has(member.name)) invalid(`Member name "${member.name}" is used twice.`);
    names.add(member.name);
    if (member.rootKey === undefined && typeof member.open !== 'function') invalid(`Member "${member.name}" needs a rootKey or an open function.`);
    if (member.rootKey !== undefined && typeof member.rootKey.unwrapKek !== 'function') invalid(`Member "${member.name}": rootKey must be a RootKey (e.g. Pkcs11RootKey).`);
  }
  const interval = options.probeIntervalMs;
  if (interval !== undefined && (!Number.isInteger(interval) || interval < 10 || interval > 3_600_000)) invalid('probeIntervalMs must be an integer from 10 to 3600000.');
  if (options.plainCopyMember !== undefined && !names.has(options.plainCopyMember)) invalid(`plainCopyMember "${options.plainCopyMember}" is not a member.`);
}
