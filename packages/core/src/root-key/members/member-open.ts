import { realpathSync } from 'node:fs';
import { KeystrataError } from '../../errors/keystrata-error.js';
import { Pkcs11RootKey, type Pkcs11RootKeyOptions } from '../pkcs11-root-key.js';
import type { RootKey } from '../root-key.js';
import { MemberRootKey } from './member-root-key.js';
import type { MemberKind } from './member-options.js';

/**
 * One PKCS#11 member: a module + token + PIN source, named.
 *
 * @example
 * ```ts
 * const drSite: Pkcs11MemberOptions = { name: 'dr-site', module: '/opt/vendor/lib/pkcs11.so', tokenLabel: 'keystrata-dr', pin: { file: '/run/secrets/dr.pin' } };
 * ```
 */
export interface Pkcs11MemberOptions extends Pkcs11RootKeyOptions {
  readonly name: string;
}

/**
 * Options of {@link openPkcs11Members}: one object, like {@link Pkcs11RootKey.open}'s.
 *
 * @example
 * ```ts
 * const options: Pkcs11MembersOptions = { kind: 'independent', members: [hsmA, drSite], probeIntervalMs: 5000 };
 * const rootKey = await openPkcs11Members(options);
 * ```
 */
export interface Pkcs11MembersOptions {
  readonly kind: MemberKind;
  readonly members: readonly Pkcs11MemberOptions[];
  readonly probeIntervalMs?: number;
  readonly plainCopyMember?: string;
}

const realPath = (path: string): string => {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
};

/**
 * Two members on one loaded module (same real path) share its environment: one SOFTHSM2_CONF, one
 * token directory. Refused unless they pick different tokens under the same environment.
 */
function checkSharedModules(members: readonly Pkcs11MemberOptions[]): void {
  const seen = new Map<string, Pkcs11MemberOptions>();
  for (const member of members) {
    const key = realPath(member.module);
    const other = seen.get(key);
    seen.set(key, member);
    if (other === undefined) continue;
    const token = (m: Pkcs11MemberOptions) => JSON.stringify([m.tokenLabel, m.slotId?.toString(), m.slotIndex]);
    if (JSON.stringify(other.moduleEnvironment ?? {}) !== JSON.stringify(member.moduleEnvironment ?? {}) || token(other) === token(member)) {
      throw new KeystrataError(
        'CONFIG_INVALID',
        `Members "${other.name}" and "${member.name}" load the same PKCS#11 module (${key}), which is initialised once per process: they must select different tokens under the same moduleEnvironment. For two SoftHSM2 token directories, give one member a copy of the library.`,
      );
    }
  }
}

/**
 * Opens a root of PKCS#11 members. A member that is unavailable at open starts unhealthy and is
 * opened by the background probe; one with a wrong PIN or an incompatible module is refused (never
 * used). Fails only when no member is usable and none can become so.
 *
 * @example
 * ```ts
 * const rootKey = await openPkcs11Members({ kind: 'independent', members: [
 *   { name: 'hsm-a', module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'a', pin: { env: 'PIN_A' } },
 *   { name: 'dr-site', module: '/opt/vendor/lib/pkcs11.so', tokenLabel: 'dr', pin: { env: 'PIN_DR' } },
 * ] });
 * ```
 */
export async function openPkcs11Members(options: Pkcs11MembersOptions): Promise<MemberRootKey> {
  if (!Array.isArray(options?.members)) throw new KeystrataError('CONFIG_INVALID', 'members must be an array of { name, module, tokenLabel | slotId | slotIndex, pin }.');
  checkSharedModules(options.members);
  const opened = await Promise.all(
    options.members.map(async ({ name, ...member }) => {
      const open = (): Promise<RootKey> => Pkcs11RootKey.open({ ...member, acceptImportedAuditKey: options.kind === 'independent' });
      try {
        return { name, rootKey: await open(), open };
      } catch (error) {
        if (!KeystrataError.isInstance(error) || error.code === 'CONFIG_INVALID') throw error;
        return { name, reason: error.code, open };
      }
    }),
  );
  return MemberRootKey.create({ ...options, members: opened });
}
