import { KeystrataError } from '../../errors/keystrata-error.js';
import type { CmkReference } from '../root-key.js';
import type { MemberRouter } from './member-router.js';

/**
 * Whether any healthy member holds the CMK: asked member by member until one has it.
 *
 * @example
 * ```ts
 * if (await anyMemberHasCmk(router, cmk)) await rootKey.destroyCmk(cmk);
 * ```
 */
export async function anyMemberHasCmk(router: MemberRouter, cmk: CmkReference): Promise<boolean> {
  const notHere = new KeystrataError('KEY_NOT_FOUND', 'not on this member');
  try {
    return await router.run(
      'find a CMK',
      async (rootKey) => {
        if (!(await rootKey.hasCmk(cmk))) throw notHere;
        return true;
      },
      { nextOnCodes: new Set(['KEY_NOT_FOUND']) },
    );
  } catch (error) {
    if (error === notHere) return false;
    throw error;
  }
}

/**
 * The CMKs labelled `label` on every member, by id; every member must answer (a shred epoch relies
 * on this list, so one that is out fails the call rather than hide a surviving copy).
 *
 * @example
 * ```ts
 * const versions = await findCmksOnEveryMember(router, 'keystrata-cmk/default/v1');
 * ```
 */
export async function findCmksOnEveryMember(router: MemberRouter, label: string): Promise<CmkReference[]> {
  const found = new Map<string, CmkReference>();
  await router.all(
    'find CMKs by label',
    async (rootKey, member) => {
      if (rootKey.findCmks === undefined) throw new KeystrataError('HSM_MODULE_INCOMPATIBLE', `Member "${member.name}" cannot list CMKs by label.`);
      for (const cmk of await rootKey.findCmks(label)) found.set(cmk.id, cmk);
    },
    false,
  );
  return [...found.values()];
}
