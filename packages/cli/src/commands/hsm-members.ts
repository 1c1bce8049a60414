import {
  KeyHierarchy,
  type KeyStore,
  KeystrataError,
  type MemberRootKey,
  type RootMemberReport,
  reportRootMembers,
  removeRootMember,
  type RootMemberSyncResult,
  syncRootMember,
} from '@keystrata/core';
import { cliActor } from '../actor.js';
import type { Command, CommandContext } from '../context.js';

/** Opens the member root and the key store (with a hierarchy over them, so member changes are audited), runs `job`, closes both. */
async function withMembers<T>(c: CommandContext, job: (rootKey: MemberRootKey, keyStore: KeyStore) => Promise<T>): Promise<T> {
  if (c.config.config.rootKey === undefined) {
    throw new KeystrataError('CONFIG_INVALID', 'This config has one HSM token (hsm), not members: add rootKey { kind, members } to use `keystrata hsm members` (docs/hsm-cluster.md).');
  }
  const { openKeyStore, openRootKey } = await import('../open.js');
  const rootKey = (await openRootKey(c.config)) as MemberRootKey;
  try {
    const keyStore = await openKeyStore(c.config);
    try {
      await KeyHierarchy.create({ rootKey, keyStore, actor: cliActor() });
      return await job(rootKey, keyStore);
    } finally {
      await keyStore.close();
    }
  } finally {
    await rootKey.close();
  }
}

/** What `hsm add-member` prints about the audit key. */
const AUDIT_KEY_SYNC: Readonly<Record<RootMemberSyncResult['auditKey'], string>> = {
  imported: 'audit key received (checked against the trail)',
  present: 'audit key held',
  'not-kept': 'NO audit key: this trail keeps no copy of it (started before copies were kept); keep two members that hold it',
  'no-trail': 'no audit trail yet',
  cloned: 'audit key cloned by the vendor',
};

const memberName = (c: CommandContext, usage: string): string => {
  const name = c.positionals[0];
  if (name === undefined) throw new KeystrataError('CONFIG_INVALID', `Name the member: keystrata ${usage}.`);
  return name;
};

/**
 * The text of `keystrata hsm members`: one line per member with its state, calls, missing CMKs,
 * missing KEK copies and whether it holds the audit key.
 *
 * @example
 * ```ts
 * console.log(renderMembers(await reportRootMembers(rootKey, keyStore)));
 * ```
 */
function renderMembers(members: readonly RootMemberReport[]): string {
  return members
    .map((m) => {
      const missing = m.missingCmks === undefined ? 'CMKs not checked' : m.missingCmks.length === 0 ? 'all CMKs' : `MISSING CMK ${m.missingCmks.join(', ')}`;
      const audit = m.auditKey === undefined ? '' : m.auditKey ? ', audit key' : ', NO audit key';
      const auditCopy =
        m.auditKeyCopy === 'missing'
          ? ` (no stored copy: run \`keystrata hsm add-member ${m.name}\`)`
          : m.auditKeyCopy === 'not-kept'
            ? ' (this trail keeps no copy of the audit key: a member added later cannot receive it; keep two members that hold it)'
            : m.auditKeyCopy === 'tampered'
              ? ' (the stored copies of the audit key were EDITED or DELETED (KEYSTORE_TAMPERED): restore the key store from a trusted backup and check the audit trail)'
              : '';
      const copies = m.missingCopies > 0 ? `, ${m.missingCopies} KEK copies missing (run \`keystrata hsm add-member ${m.name}\`)` : '';
      return `${m.name.padEnd(12)} ${m.state.padEnd(9)}${m.reason ? ` (${m.reason})` : ''}  ${m.description}; ${missing}${audit}${auditCopy}${copies}; calls ${m.calls}, failovers ${m.failovers}`;
    })
    .join('\n');
}

/** `keystrata hsm members`: each member, its health, and what it lacks. */
export const hsmMembers: Command = {
  usage: 'hsm members',
  summary: 'List the root members (rootKey.members) with health, missing CMKs or KEK copies, and per-member call counts.',
  async run(c) {
    c.out.result(await withMembers(c, (rootKey, keyStore) => reportRootMembers(rootKey, keyStore)), renderMembers);
  },
};

/** `keystrata hsm add-member <name>`: brings a member listed in the config up to date (resumable). */
export const hsmAddMember: Command = {
  usage: 'hsm add-member <name>',
  summary: 'After adding a member to rootKey.members: create its CMKs and wrap every live KEK under it (independent), or check it holds every CMK (cloned). Safe to rerun.',
  async run(c) {
    const member = memberName(c, this.usage);
    const result = await withMembers(c, (rootKey, keyStore) => syncRootMember({ rootKey, keyStore, member, actor: cliActor(), onProgress: (p) => c.out.progress(p) }));
    c.out.result(result, (r: typeof result) =>
      r.missingCmks.length > 0
        ? `member ${r.member} lacks CMK ${r.missingCmks.join(', ')}: clone the token again (a cloned member is never given keys by Keystrata)`
        : `member ${r.member}: ${r.cmksCreated} CMK version(s) created, ${r.copiesAdded} KEK copies added, ${r.copiesPresent} already there${r.unbound > 0 ? `; ${r.unbound} unbound KEK(s) skipped: run \`keystrata rewrap\` first` : ''}; ${AUDIT_KEY_SYNC[r.auditKey]}`,
    );
  },
};

/** `keystrata hsm remove-member <name>`: deletes the member's KEK copies (audited); then remove it from the config. */
export const hsmRemoveMember: Command = {
  usage: 'hsm remove-member <name>',
  summary: "Delete a member's KEK copies from the key store (audited), then remove it from rootKey.members; refused for the last copy or the last audit-key holder.",
  async run(c) {
    const member = memberName(c, this.usage);
    const result = await withMembers(c, (rootKey, keyStore) => removeRootMember({ rootKey, keyStore, member, actor: cliActor() }));
    c.out.result(result, (r: typeof result) => `member ${r.member}: ${r.copiesRemoved} KEK copies deleted; now remove it from rootKey.members in the config`);
  },
};
