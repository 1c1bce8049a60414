// Shared by the CLI's HSM member tests: the token shape core's member-tokens.mjs makes, and one
// member's entry in `rootKey.members` of a config file.

/** A SoftHSM2 member token from core/test/members/member-tokens.mjs. */
export interface MemberToken {
  name: string;
  module: string;
  tokenLabel: string;
  pin: string;
  conf: string;
  tokens: string;
}

/** Member `name`'s config entry, its PIN read from `pinFile` (default `<name>.pin`). */
export const memberConfig = (tokens: Record<string, MemberToken>, name: string, pinFile = `${name}.pin`) => ({
  name,
  module: tokens[name]!.module,
  tokenLabel: tokens[name]!.tokenLabel,
  pin: { file: pinFile },
  softhsm2Conf: tokens[name]!.conf,
});
