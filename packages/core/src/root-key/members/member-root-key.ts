import { randomBytes } from 'node:crypto';
import { KeystrataError } from '../../errors/keystrata-error.js';
import type { KeyStore } from '../../key-store/key-store.js';
import type { SecretKey } from '../../secret/secret-key.js';
import type { AuditKeyIdentity, CmkReference, RootKey, RootKeyStats, RootMemberEvent } from '../root-key.js';
import { decodeMemberCopies, encodeMemberCopies, isMemberCopies, type MemberCopy } from './member-copies.js';
import { createMemberAuditKey, memberAuditKeyIdentity, memberAuditMac } from './member-audit-key.js';
import { anyMemberHasCmk, findCmksOnEveryMember } from './member-cmks.js';
import { MemberRouter } from './member-router.js';
import { checkMemberRootKeyOptions, type MemberKind, type MemberRootKeyOptions } from './member-options.js';
import { cannotUnwrapHere, COPY_DROPPED, isForeignMechanism, LACKS_KEY, RootMember } from './root-member.js';

const cmkKey = (cmk: CmkReference): string => `${cmk.label}/${cmk.id}`;
/** Member state changes kept for the first listener (an audit log subscribing after the open). */
const BACKLOG = 100;

/**
 * A {@link RootKey} over several member root keys (PKCS#11 tokens: an HSM pair, mixed vendors, a
 * disaster-recovery site). `cloned` members hold the same CMK objects (vendor cloning), so any
 * member unwraps anything; `independent` members each hold their own CMK (same label and CKA_ID)
 * and every KEK is stored wrapped once per member ({@link encodeMemberCopies}). Operations are
 * spread over healthy members and move to the next member on a device, session or token error;
 * unhealthy members are probed in the background and rejoin. See docs/hsm-cluster.md.
 *
 * @example
 * ```ts
 * const rootKey = MemberRootKey.create({ kind: 'cloned', members: [{ name: 'hsm-a', rootKey: a }, { name: 'hsm-b', rootKey: b }] });
 * const hierarchy = await KeyHierarchy.create({ rootKey, keyStore });
 * ```
 */
export class MemberRootKey implements RootKey {
  readonly kind: MemberKind;
  readonly #router: MemberRouter;
  readonly #plainCopyMember: string;
  readonly #listeners = new Set<(event: RootMemberEvent) => void>();
  readonly #backlog: RootMemberEvent[] = [];
  #closed = false;

  private constructor(options: MemberRootKeyOptions, members: RootMember[]) {
    this.kind = options.kind;
    this.#plainCopyMember = options.plainCopyMember ?? members[0]!.name;
    this.#router = new MemberRouter(members, (event) => this.#emit(event), options.probeIntervalMs ?? 5000);
  }

  /**
   * A root over member root keys already opened (or, with `open`, to be opened by the background
   * probe). Validates the options once.
   */
  static create(options: MemberRootKeyOptions): MemberRootKey {
    checkMemberRootKeyOptions(options);
    const members = options.members.map((m) => new RootMember(m.name, m.rootKey, m.open, m.reason));
    const root = new MemberRootKey(options, members);
    for (const member of members) if (member.rootKey === undefined) root.#emit({ member: member.name, from: 'added', to: member.state, ...(member.reason ? { reason: member.reason } : {}) });
    return root;
  }

  get description(): string {
    return `${this.#router.members.length} ${this.kind} members: ${this.#router.members.map((m) => `${m.name} (${m.rootKey?.description ?? 'not opened'}, ${m.state})`).join('; ')}`;
  }

  get stats(): RootKeyStats {
    let hsmCalls = 0;
    let reconnects = 0;
    for (const member of this.#router.members) {
      hsmCalls += member.rootKey?.stats.hsmCalls ?? 0;
      reconnects += member.rootKey?.stats.reconnects ?? 0;
    }
    return { hsmCalls, reconnects, members: this.#router.members.map((m) => m.stats) };
  }

  /** The members, in order (names, states, root keys): for `keystrata hsm members` and member sync. */
  get members(): ReadonlyArray<Pick<RootMember, 'name' | 'state' | 'reason' | 'rootKey' | 'missingCmks' | 'auditKey'>> {
    return this.#router.members;
  }

  #emit(event: RootMemberEvent): void {
    if (this.#listeners.size === 0) {
      if (this.#backlog.length < BACKLOG) this.#backlog.push(event);
      return;
    }
    for (const listener of this.#listeners) listener(event);
  }

  watchMembers(listener: (event: RootMemberEvent) => void): () => void {
    this.#listeners.add(listener);
    for (const event of this.#backlog.splice(0)) listener(event);
    return () => this.#listeners.delete(listener);
  }

  /** Probes unhealthy members now (the background probe does this every `probeIntervalMs`). */
  probe(): Promise<void> {
    return this.#router.probe();
  }

  /** Adds an opened member (state `healthy`); an independent one gets its copies from {@link syncRootMember}. */
  addMember(name: string, rootKey: RootKey): void {
    if (this.#router.members.some((m) => m.name === name)) throw new KeystrataError('CONFIG_INVALID', `The root already has a member "${name}".`);
    this.#router.members.push(new RootMember(name, rootKey));
    this.#emit({ member: name, from: 'added', to: 'healthy' });
  }

  /** Drops a member and closes its root key (its copies are removed from the key store by {@link removeRootMember}). */
  async removeMember(name: string): Promise<void> {
    const index = this.#router.members.findIndex((m) => m.name === name);
    if (index < 0) throw new KeystrataError('CONFIG_INVALID', `The root has no member "${name}".`);
    if (this.#router.members.length === 1) throw new KeystrataError('CONFIG_INVALID', 'The last member of a root cannot be removed.');
    const [member] = this.#router.members.splice(index, 1);
    this.#emit({ member: name, from: member!.state, to: 'removed' });
    await member!.rootKey?.close();
  }

  /** Each member's wrapped copy: a plain wrapped KEK is every member's (cloned) or the first member's (independent). */
  copies(wrapped: Buffer): Map<string, Buffer> {
    if (isMemberCopies(wrapped)) return new Map(decodeMemberCopies(wrapped).map((c) => [c.member, c.wrapped]));
    if (this.kind === 'independent') return new Map([[this.#plainCopyMember, wrapped]]);
    return new Map(this.#router.members.map((m) => [m.name, wrapped]));
  }

  async createCmk(label: string, id?: string): Promise<CmkReference> {
    const ref = { label, id: id ?? randomBytes(16).toString('hex') };
    if (this.kind === 'cloned') return this.#router.run('generate a CMK', (rootKey) => rootKey.createCmk(label, ref.id));
    await this.#router.all('generate a CMK', async (rootKey) => void ((await rootKey.hasCmk(ref)) || (await rootKey.createCmk(label, ref.id))), true);
    return ref;
  }

  /** Whether any healthy member holds the CMK (a member lacking it is reported by `hsm members` and synced). */
  hasCmk(cmk: CmkReference): Promise<boolean> {
    return anyMemberHasCmk(this.#router, cmk);
  }

  /** Destroys the CMK on every member; refused while any member is out (a shred must reach every copy). */
  async destroyCmk(cmk: CmkReference): Promise<void> {
    await this.#router.all('destroy a CMK', (rootKey) => rootKey.destroyCmk(cmk), false);
  }

  findCmks(label: string): Promise<CmkReference[]> {
    return findCmksOnEveryMember(this.#router, label);
  }

  #holds(cmk: CmkReference) {
    return (member: RootMember): boolean => !member.missingCmks.has(cmkKey(cmk));
  }

  /** Notes a member that answered KEY_NOT_FOUND for `cmk` (not one that lacks a blob's mechanism: it has the CMK). */
  #lacking(cmk: CmkReference) {
    return (member: RootMember, error: KeystrataError): void => void (error.code === 'KEY_NOT_FOUND' && member.missingCmks.add(cmkKey(cmk)));
  }

  async generateWrappedKek(cmk: CmkReference): Promise<Buffer> {
    const lacking = { nextOnCodes: LACKS_KEY, eligible: this.#holds(cmk), onLacking: (m: RootMember) => m.missingCmks.add(cmkKey(cmk)) };
    if (this.kind === 'cloned') return this.#router.run('generate and wrap a KEK', (rootKey) => rootKey.generateWrappedKek(cmk), lacking);
    // Generated in one member; its copies for the others pass through process memory only, as for the cache.
    const [first, kek] = await this.#router.run(
      'generate and wrap a KEK',
      async (rootKey, member) => {
        const wrapped = await rootKey.generateWrappedKek(cmk);
        return [{ member: member.name, wrapped }, await rootKey.unwrapKek(cmk, wrapped)] as const;
      },
      lacking,
    );
    try {
      return encodeMemberCopies([first, ...(await this.#copiesFor(cmk, kek, new Set([first.member])))]);
    } finally {
      kek.destroy();
    }
  }

  /** Wraps `kek` under `cmk` on every healthy member not in `skip` that can (an unreachable one is skipped and marked). */
  async #copiesFor(cmk: CmkReference, kek: SecretKey, skip: ReadonlySet<string>): Promise<MemberCopy[]> {
    const copies: MemberCopy[] = [];
    for (const member of this.#router.members) {
      if (skip.has(member.name) || member.state !== 'healthy' || member.missingCmks.has(cmkKey(cmk))) continue;
      const copy = await this.wrapKekFor(member.name, cmk, kek).catch((error: unknown) => {
        if (KeystrataError.isInstance(error, 'HSM_UNAVAILABLE') || KeystrataError.isInstance(error, 'KEY_NOT_FOUND')) return undefined;
        throw error;
      });
      if (copy !== undefined) copies.push({ member: member.name, wrapped: copy });
    }
    return copies;
  }

  /** Wraps a KEK from process memory under member `name`'s CMK (member sync). */
  async wrapKekFor(name: string, cmk: CmkReference, kek: SecretKey): Promise<Buffer> {
    return this.#router.run(
      'wrap a KEK copy',
      (rootKey, member) => {
        if (rootKey.wrapKekBytes === undefined) throw new KeystrataError('HSM_MODULE_INCOMPATIBLE', `Member "${member.name}" cannot wrap a KEK copy (an independent member needs wrapKekBytes).`);
        return rootKey.wrapKekBytes(cmk, kek);
      },
      { eligible: (member) => member.name === name, onLacking: (m) => m.missingCmks.add(cmkKey(cmk)), nextOnCodes: LACKS_KEY },
    );
  }

  /**
   * Unwraps on a member holding a copy. A blob (or copy) naming a mechanism a member does not offer
   * moves to the next member; when none is left it stands as `CIPHERTEXT_TAMPERED` (no member can
   * have written it: the resolver audits it), except that a shared (cloned) blob waits with
   * `HSM_UNAVAILABLE` while a member that is out might offer it.
   */
  async unwrapKek(cmk: CmkReference, wrapped: Buffer): Promise<SecretKey> {
    const copies = this.copies(wrapped);
    const eligible = (member: RootMember): boolean => copies.has(member.name) && this.#holds(cmk)(member);
    try {
      return await this.#router.run('unwrap a KEK', (rootKey, member) => rootKey.unwrapKek(cmk, copies.get(member.name)!), {
        eligible,
        // A member's own copy naming a mechanism its module does not offer was not written by it: tampering, as on one token.
        nextWhen: isMemberCopies(wrapped) ? (error) => LACKS_KEY.has(error.code) : cannotUnwrapHere,
        onLacking: this.#lacking(cmk),
      });
    } catch (error) {
      const shared = !isMemberCopies(wrapped) && this.kind === 'cloned';
      if (shared && isForeignMechanism(error) && this.#router.members.some((m) => m.state !== 'healthy' && eligible(m))) {
        throw new KeystrataError('HSM_UNAVAILABLE', 'No healthy member offers the wrap mechanism this KEK names; a member that is out may. Retry when it rejoins.', { cause: error });
      }
      throw error;
    }
  }

  /** Records (as a `member` audit record, through watchMembers) a copy a CMK rotation dropped because its member cannot have written it. */
  #droppedForeignCopy(name: string, error: unknown): undefined {
    const member = this.#router.members.find((m) => m.name === name);
    const state = member?.state ?? 'healthy';
    this.#emit({ member: name, from: state, to: state, reason: (error as KeystrataError).code, dropped: 'kek-copy' });
    return undefined;
  }

  /**
   * Re-wraps inside the members. Independent: each member re-wraps its own copy; a member that is
   * out or lacks `to` loses its copy (never keeps one under the old CMK) and gets it back at sync.
   */
  async rewrapKek(from: CmkReference, to: CmkReference, wrapped: Buffer): Promise<Buffer> {
    const copies = this.copies(wrapped);
    if (this.kind === 'cloned' && !isMemberCopies(wrapped)) {
      return this.#router.run('unwrap and rewrap a KEK', (rootKey) => rootKey.rewrapKek(from, to, wrapped), {
        eligible: (member) => this.#holds(from)(member) && this.#holds(to)(member),
        nextWhen: cannotUnwrapHere,
      });
    }
    const rewrapped: MemberCopy[] = [];
    for (const [name, copy] of copies) {
      const result = await this.#router
        .run('unwrap and rewrap a KEK', (rootKey) => rootKey.rewrapKek(from, to, copy), { eligible: (member) => member.name === name, nextWhen: cannotUnwrapHere })
        .catch((error: unknown) => {
          if (isForeignMechanism(error)) return this.#droppedForeignCopy(name, error);
          if (KeystrataError.isInstance(error) && COPY_DROPPED.has(error.code)) return undefined;
          throw error;
        });
      if (result !== undefined) rewrapped.push({ member: name, wrapped: result });
    }
    if (rewrapped.length === 0) throw new KeystrataError('HSM_UNAVAILABLE', 'No member holding a copy of the KEK could re-wrap it; nothing was changed.');
    return encodeMemberCopies(rewrapped);
  }

  async auditMac(data: Buffer, key?: AuditKeyIdentity): Promise<Buffer> {
    return memberAuditMac(this.#router, data, key);
  }

  async auditKeyIdentity(keyId?: string): Promise<AuditKeyIdentity | undefined> {
    return memberAuditKeyIdentity(this.#router, keyId, this.kind);
  }

  /** See {@link createMemberAuditKey}: an independent root keeps the audit key's wrapped copies in `keyStore`. */
  async createAuditKey(keyStore?: KeyStore): Promise<AuditKeyIdentity> {
    return createMemberAuditKey(this.#router, this.kind, keyStore);
  }

  /** Stops the probe and closes every member; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#router.close();
    for (const member of this.#router.members) await member.rootKey?.close();
  }
}
