import { KeystrataError, type MemberRootKey, openPkcs11Members } from '@keystrata/core';
import type { ResolvedConfig } from './config.js';
import { checkPinSource } from './open.js';
import { findSoftHsmModule } from './softhsm.js';

/**
 * Opens the root of several HSM members that `rootKey` in the config names. Each member's module
 * defaults to `hsm.module` (or the SoftHSM2 found on the machine); a member that is unavailable
 * starts unhealthy and rejoins by itself, one with a wrong PIN is refused and never used.
 *
 * @example
 * ```ts
 * import { loadConfig } from '@keystrata/cli';
 * const rootKey = await openMemberRootKey(loadConfig(undefined)); // needs rootKey.members in the config
 * ```
 */
export async function openMemberRootKey(resolved: ResolvedConfig): Promise<MemberRootKey> {
  const root = resolved.config.rootKey;
  if (root === undefined) throw new KeystrataError('CONFIG_INVALID', 'No rootKey.members in the config.');
  const members = root.members.map((member) => {
    const module = member.module ?? resolved.config.hsm?.module ?? findSoftHsmModule();
    if (module === undefined) throw new KeystrataError('CONFIG_INVALID', `Member "${member.name}" names no module: set rootKey.members[].module or hsm.module.`);
    if ((member.tokenLabel === undefined) === (member.slotIndex === undefined)) {
      throw new KeystrataError('CONFIG_INVALID', `Member "${member.name}" needs exactly one of tokenLabel or slotIndex.`);
    }
    checkPinSource(member.pin, process.env);
    return {
      name: member.name,
      module,
      ...(member.tokenLabel !== undefined ? { tokenLabel: member.tokenLabel } : { slotIndex: member.slotIndex! }),
      pin: member.pin,
      ...(member.softhsm2Conf ? { moduleEnvironment: { SOFTHSM2_CONF: member.softhsm2Conf } } : {}),
    };
  });
  return openPkcs11Members({ kind: root.kind, members, ...(root.probeIntervalMs === undefined ? {} : { probeIntervalMs: root.probeIntervalMs }) });
}
