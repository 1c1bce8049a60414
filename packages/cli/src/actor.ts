import { userInfo } from 'node:os';

/**
 * Who runs the CLI, for the audit trail: `cli:<OS user name>` from the password database (not
 * `$USER`, which a shell may leave unset or a caller may set to anything), else `cli:uid:<n>`.
 *
 * @example
 * ```ts
 * cliActor(); // 'cli:alice' (or 'cli:uid:1001' for a user without a name)
 * ```
 */
export function cliActor(): string {
  try {
    const { username, uid } = userInfo();
    if (username !== '') return `cli:${username}`;
    if (uid >= 0) return `cli:uid:${uid}`;
  } catch {
    // No password-database entry for this uid (e.g. a container's arbitrary uid): fall back to the number.
  }
  const uid = process.getuid?.();
  return uid === undefined ? 'cli:unknown' : `cli:uid:${uid}`;
}
