import { KeystrataError } from '../../errors/keystrata-error.js';
import type { RootKey, RootMemberEvent, RootMemberState } from '../root-key.js';
import { isFailoverReason, isMemberRefusal, type RootMember } from './root-member.js';

/** How one routed operation treats a member's answer. */
export interface RouteOptions {
  /** Which members may serve it (e.g. those holding a copy of the KEK). */
  readonly eligible?: (member: RootMember) => boolean;
  /** Codes meaning "this member lacks the key": try the next member; thrown if every member says so. */
  readonly nextOnCodes?: ReadonlySet<string>;
  /** Like `nextOnCodes`, for answers a code alone does not tell apart (see `cannotUnwrapHere`). */
  readonly nextWhen?: (error: KeystrataError) => boolean;
  /** Called when a member answered one of `nextOnCodes` or `nextWhen` (with that error). */
  readonly onLacking?: (member: RootMember, error: KeystrataError) => void;
}

const unavailable = (what: string, members: number): KeystrataError =>
  new KeystrataError('HSM_UNAVAILABLE', `No member of the root could ${what}: all ${members} are unavailable, refused or lack the key.`, {
    details: { operation: what, members },
    hint: 'Run `keystrata hsm members` to see each member and why it is out; an unavailable member is probed in the background and rejoins by itself when it answers.',
  });

/**
 * Spreads operations over the healthy members (the least in flight, round robin among equals),
 * moves an operation to the next member when one fails with a device, session or token error
 * (marking it unhealthy), and probes unhealthy members in the background until they rejoin.
 *
 * @example
 * ```ts
 * const key = await router.run('unwrap a KEK', (rootKey) => rootKey.unwrapKek(cmk, wrapped));
 * ```
 */
export class MemberRouter {
  readonly members: RootMember[];
  readonly #emit: (event: RootMemberEvent) => void;
  readonly #timer: NodeJS.Timeout;
  #next = 0;
  #closed = false;

  constructor(members: RootMember[], emit: (event: RootMemberEvent) => void, probeIntervalMs: number) {
    this.members = members;
    this.#emit = emit;
    this.#timer = setInterval(() => void this.probe(), probeIntervalMs);
    this.#timer.unref();
  }

  /** Changes a member's state (announced only when it changes). */
  setState(member: RootMember, state: RootMemberState, reason?: string): void {
    // A member removed while one of its operations was in flight changes state no more.
    if (member.state === state || !this.members.includes(member)) return;
    const from = member.state;
    member.state = state;
    member.reason = state === 'healthy' ? undefined : reason;
    if (state === 'healthy') {
      member.missingCmks.clear();
      member.auditKey = true;
    }
    this.#emit({ member: member.name, from, to: state, ...(reason === undefined ? {} : { reason }) });
  }

  /** Probes every unhealthy member once; those that answer rejoin. */
  async probe(): Promise<void> {
    if (this.#closed) return;
    await Promise.all(
      this.members
        .filter((member) => member.state === 'unhealthy')
        .map(async (member) => {
          try {
            if (await member.probe()) this.setState(member, 'healthy', 'rejoined');
          } catch (error) {
            this.setState(member, 'refused', KeystrataError.isInstance(error) ? error.code : 'ERROR');
          }
        }),
    );
  }

  #pick(eligible: (member: RootMember) => boolean): RootMember | undefined {
    let best: RootMember | undefined;
    let bestIndex = 0;
    for (let step = 0; step < this.members.length; step++) {
      const index = (this.#next + step) % this.members.length;
      const member = this.members[index]!;
      if (member.state !== 'healthy' || member.rootKey === undefined || !eligible(member)) continue;
      if (best === undefined || member.inFlight < best.inFlight) {
        best = member;
        bestIndex = index;
      }
    }
    if (best !== undefined) this.#next = (bestIndex + 1) % this.members.length;
    return best;
  }

  /**
   * Runs `operation` on one healthy eligible member; on a failover reason marks it unhealthy and
   * runs it on the next, each member at most once. Fails closed with `HSM_UNAVAILABLE` when none is left.
   */
  async run<T>(what: string, operation: (rootKey: RootKey, member: RootMember) => Promise<T>, options: RouteOptions = {}): Promise<T> {
    const tried = new Set<RootMember>();
    let lacking: unknown;
    for (;;) {
      const member = this.#pick((m) => !tried.has(m) && (options.eligible?.(m) ?? true));
      if (member === undefined) {
        if (this.members.some((m) => m.state === 'unhealthy')) void this.probe();
        if (lacking !== undefined) throw lacking;
        throw unavailable(what, this.members.length);
      }
      tried.add(member);
      member.inFlight++;
      try {
        const result = await operation(member.rootKey!, member);
        member.calls++;
        return result;
      } catch (error) {
        if (this.#closed) throw error;
        if (isFailoverReason(error)) {
          member.failovers++;
          this.setState(member, 'unhealthy', 'HSM_UNAVAILABLE');
        } else if (isMemberRefusal(error)) {
          this.setState(member, 'refused', (error as KeystrataError).code);
        } else if (KeystrataError.isInstance(error) && (options.nextOnCodes?.has(error.code) || options.nextWhen?.(error))) {
          options.onLacking?.(member, error);
          lacking = error;
        } else {
          throw error;
        }
      } finally {
        member.inFlight--;
      }
    }
  }

  /**
   * Runs `operation` on every member. `skipUnavailable`: members that are out (or fail with a
   * failover reason) are skipped and marked, and at least one must succeed; otherwise any member
   * that is out fails the whole call, so nothing is skipped silently (destroying a CMK everywhere).
   */
  async all(what: string, operation: (rootKey: RootKey, member: RootMember) => Promise<void>, skipUnavailable: boolean): Promise<number> {
    let done = 0;
    for (const member of [...this.members]) {
      if (member.state !== 'healthy' || member.rootKey === undefined) {
        if (skipUnavailable) continue;
        throw new KeystrataError(
          'HSM_UNAVAILABLE',
          `Member "${member.name}" is ${member.state}, so the root cannot ${what} on every member; nothing was skipped. Retry when it rejoins, or remove it.`,
          {
            details: { member: member.name, operation: what },
            hint: 'Run `keystrata hsm members`; a member with a wrong PIN is fixed in its PIN source, one that is gone is removed with `keystrata hsm remove-member`.',
          },
        );
      }
      member.inFlight++;
      try {
        await operation(member.rootKey, member);
        member.calls++;
        done++;
      } catch (error) {
        if (!skipUnavailable || this.#closed || !(isFailoverReason(error) || isMemberRefusal(error))) throw error;
        member.failovers++;
        this.setState(member, isFailoverReason(error) ? 'unhealthy' : 'refused', (error as KeystrataError).code);
      } finally {
        member.inFlight--;
      }
    }
    if (done === 0) throw unavailable(what, this.members.length);
    return done;
  }

  /** Stops probing. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
  }
}
