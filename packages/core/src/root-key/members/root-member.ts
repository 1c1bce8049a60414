import { KeystrataError } from '../../errors/keystrata-error.js';
import type { RootKey, RootMemberState, RootMemberStats } from '../root-key.js';

/** What a probe asks a member: a lookup that needs a live, logged-in session and changes nothing. */
const PROBE_CMK = { label: 'keystrata-member-probe', id: '00' } as const;

/** Codes after which a member is never used again in this process (the PIN or the module is wrong). */
const REFUSALS = new Set(['HSM_PIN_INCORRECT', 'HSM_PIN_LOCKED', 'HSM_MODULE_INCOMPATIBLE']);

/** The member lacks the CMK: the next member that holds it is tried. */
export const LACKS_KEY = new Set(['KEY_NOT_FOUND']);
/**
 * Whether a member's unwrap refusal means "not this member": it lacks the CMK, or its module does
 * not offer the mechanism this blob (or this member's copy) names (`CIPHERTEXT_TAMPERED` with
 * `details.offered: false`). The next member that can serve it is tried, and the member is neither
 * marked unhealthy nor refused: it serves every other key. When no member is left, that refusal
 * stands: a blob naming a mechanism no member offers cannot have been written by any of them.
 *
 * @example
 * ```ts
 * await router.run('unwrap a KEK', unwrap, { nextWhen: cannotUnwrapHere });
 * ```
 */
export function cannotUnwrapHere(error: KeystrataError): boolean {
  return error.code === 'KEY_NOT_FOUND' || isForeignMechanism(error);
}

/**
 * Whether `error` is a member's refusal of a blob naming a mechanism its module does not offer.
 *
 * @example
 * ```ts
 * if (isForeignMechanism(error)) audit(member, 'copy-dropped');
 * ```
 */
export function isForeignMechanism(error: unknown): boolean {
  return KeystrataError.isInstance(error, 'CIPHERTEXT_TAMPERED') && error.details.offered === false;
}

/** A copy that a member out or lacking the CMK cannot re-wrap is dropped; sync gives it back. (One naming a foreign mechanism is dropped too, audited.) */
export const COPY_DROPPED = new Set(['HSM_UNAVAILABLE', 'KEY_NOT_FOUND']);

/**
 * Whether `error` means the member's device, session or token is gone: the operation moves to
 * another member. A wrong PIN, a tampered blob, a missing, revoked or destroyed key are not.
 *
 * @example
 * ```ts
 * if (isFailoverReason(error)) router.markDown(member, error);
 * ```
 */
export function isFailoverReason(error: unknown): boolean {
  return KeystrataError.isInstance(error, 'HSM_UNAVAILABLE');
}

/**
 * Whether `error` means the member must never be used again in this process (wrong or locked PIN,
 * a module without the mechanisms the hierarchy needs).
 *
 * @example
 * ```ts
 * if (isMemberRefusal(error)) router.setState(member, 'refused', error.code);
 * ```
 */
export function isMemberRefusal(error: unknown): boolean {
  return KeystrataError.isInstance(error) && REFUSALS.has(error.code);
}

/**
 * One member of a {@link MemberRootKey}: its root key (undefined while it could not be opened),
 * its health and its counters.
 *
 * @example
 * ```ts
 * const member = new RootMember('hsm-a', await Pkcs11RootKey.open(options));
 * ```
 */
export class RootMember {
  readonly name: string;
  rootKey: RootKey | undefined;
  state: RootMemberState;
  reason: string | undefined;
  calls = 0;
  failovers = 0;
  inFlight = 0;
  /** CMK references (`label/id`) this member answered KEY_NOT_FOUND for; cleared when it rejoins. */
  readonly missingCmks = new Set<string>();
  /** Whether it holds the trail's audit key (false after it answered AUDIT_KEY_MISMATCH). */
  auditKey = true;
  readonly #open: (() => Promise<RootKey>) | undefined;
  #probing: Promise<boolean> | undefined;

  constructor(name: string, rootKey: RootKey | undefined, open?: () => Promise<RootKey>, reason?: string) {
    this.name = name;
    this.rootKey = rootKey;
    this.#open = open;
    this.state = rootKey !== undefined ? 'healthy' : reason !== undefined && REFUSALS.has(reason) ? 'refused' : 'unhealthy';
    this.reason = reason;
  }

  get stats(): RootMemberStats {
    return { name: this.name, state: this.state, calls: this.calls, failovers: this.failovers, inFlight: this.inFlight, ...(this.reason === undefined ? {} : { reason: this.reason }) };
  }

  /** Whether the member answers now (opening it first if it never opened); refusals propagate. */
  probe(): Promise<boolean> {
    this.#probing ??= (async () => {
      try {
        if (this.rootKey === undefined) {
          if (this.#open === undefined) return false;
          this.rootKey = await this.#open();
        }
        await this.rootKey.hasCmk(PROBE_CMK);
        return true;
      } catch (error) {
        if (isMemberRefusal(error)) throw error;
        return false;
      }
    })().finally(() => (this.#probing = undefined));
    return this.#probing;
  }
}
