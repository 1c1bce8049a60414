import { AsyncResource } from 'node:async_hooks';
import type { AuditLog } from '../../hierarchy/audit-log.js';
import type { KeyStore } from '../../key-store/key-store.js';
import type { RootKey, RootMemberEvent } from '../root-key.js';
import { MemberRootKey } from './member-root-key.js';
import { syncRootMember } from './member-sync.js';

const relayed = new WeakMap<RootKey, WeakSet<KeyStore>>();

/**
 * Records every member change of state in the audit trail as a `member` record (subject
 * `member:<name>`). An event that cannot be recorded now (every member out: nothing can MAC it) is
 * kept in order and recorded with the next one, such as the rejoin that follows. Once per root key and
 * key store, however many hierarchies are created over them. An independent member that rejoins is
 * synced ({@link syncRootMember}) in the background; `keystrata hsm members` shows copies still missing.
 *
 * @example
 * ```ts
 * const stop = auditMemberEvents(rootKey, audit, keyStore);
 * ```
 */
export function auditMemberEvents(rootKey: RootKey, audit: Pick<AuditLog, 'record'>, keyStore: KeyStore): () => void {
  if (typeof rootKey.watchMembers !== 'function') return () => {};
  // One relay per root key and key store: hierarchies created per request must not record each event many times.
  const stores = relayed.get(rootKey) ?? new WeakSet<KeyStore>();
  relayed.set(rootKey, stores);
  if (stores.has(keyStore)) return () => {};
  stores.add(keyStore);
  const pending: RootMemberEvent[] = [];
  let flushing = false;
  const flush = async (): Promise<void> => {
    if (flushing) return;
    flushing = true;
    try {
      while (pending.length > 0) {
        const { member, from, to, reason, dropped } = pending[0]!;
        await audit.record('member', `member:${member}`, { member, from, to, ...(reason === undefined ? {} : { reason }), ...(dropped === undefined ? {} : { dropped }) });
        pending.shift();
      }
    } catch {
      /* kept: recorded with the next event */
    } finally {
      flushing = false;
    }
  };
  // Bound to the context of this call: a rejoin noticed inside a rotation must not run its sync under
  // that rotation's (re-entrant) keyring lease; it waits for the lease like any other job.
  const syncDetached = AsyncResource.bind((root: MemberRootKey, member: string) => {
    void syncRootMember({ rootKey: root, keyStore, member, recordUnchanged: false }).catch(() => undefined);
  });
  return rootKey.watchMembers((event) => {
    pending.push(event);
    void flush();
    // An independent member that rejoins gets the CMK versions and KEK copies made while it was out.
    if (rootKey instanceof MemberRootKey && rootKey.kind === 'independent' && event.from === 'unhealthy' && event.to === 'healthy') syncDetached(rootKey, event.member);
  });
}
