import { KeystrataError } from '@keystrata/core';
import { closestKey } from '@keystrata/core/adapter';
import type { ZodIssue } from 'zod';
import type { KeystrataConfig } from './config.js';
import { CONFIG_EXPECTATIONS, CONFIG_SCHEMA } from './config-schema.js';

const invalid = (file: string, what: string): KeystrataError =>
  // Names the option, never its value: a PIN pasted into the wrong place must not reach a terminal or a log.
  new KeystrataError('CONFIG_INVALID', `${file}: ${what} (the value is not shown).`, { hint: 'Fix the named option in the config file; see `keystrata --help` and the CLI README.' });

/** The valid keys of the object at `path` (dotted), from the expectations table. */
function validKeysAt(path: string): string[] {
  const prefix = path === '' ? '' : `${path}.`;
  return Object.keys(CONFIG_EXPECTATIONS)
    .filter((key) => key !== '' && key.startsWith(prefix) && !key.slice(prefix.length).includes('.'))
    .map((key) => key.slice(prefix.length));
}

/** A key name is quoted only when it looks like a name (a PIN pasted as a key is not echoed). */
const NAME_SHAPE = /^\$?[A-Za-z][A-Za-z0-9]{0,39}$/;

/** One issue in words: the option's name and what it must be; never the value zod saw. */
function describeIssue(issue: ZodIssue): string {
  // Array indexes (rootKey.members.0.pin) are dropped to find the expectation.
  const path = issue.path.filter((part) => typeof part !== 'number').join('.');
  // A pin of the wrong shape: name `hsm.pin` whatever zod reports inside the union.
  if (path.startsWith('hsm.pin')) return `hsm.pin ${CONFIG_EXPECTATIONS['hsm.pin']}`;
  if (path.startsWith('rootKey.members.pin')) return `rootKey.members.pin ${CONFIG_EXPECTATIONS['rootKey.members.pin']}`;
  if (issue.code === 'unrecognized_keys') {
    const valid = validKeysAt(path);
    const named = issue.keys.map((key) => {
      if (!NAME_SHAPE.test(key)) return `a key that is not shown${path === '' ? '' : ` in ${path}`}`;
      const suggestion = closestKey(key, valid);
      return `"${path === '' ? key : `${path}.${key}`}"${suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`}`;
    });
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${named.join(', ')}; valid ${path === '' ? 'top-level' : path} keys: ${valid.join(', ')}`;
  }
  if (path === '') return CONFIG_EXPECTATIONS['']!;
  return `${path} ${CONFIG_EXPECTATIONS[path] ?? 'is not valid'}`;
}

/**
 * Checks a parsed `keystrata.config.json` key by key against {@link CONFIG_SCHEMA} once, when it is
 * loaded: a wrong or unknown option is `CONFIG_INVALID` naming the option (and the closest valid
 * key for a misspelt one), and the message never quotes a value (it could be a PIN).
 *
 * @example
 * ```ts
 * checkConfig('keystrata.config.json', { hsm: { pin: '1234' } }); // throws CONFIG_INVALID naming hsm.pin
 * checkConfig('keystrata.config.json', { keystore: {} });         // throws: unknown key "keystore" (did you mean "keyStore"?)
 * ```
 */
export function checkConfig(file: string, raw: unknown): asserts raw is KeystrataConfig {
  const result = CONFIG_SCHEMA.safeParse(raw);
  if (result.success) return;
  const described = [...new Set(result.error.issues.map(describeIssue))];
  throw invalid(file, described.join('; '));
}
