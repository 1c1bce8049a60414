import { KeystrataError } from '@keystrata/core';
import { isEnvelope } from '@keystrata/core/adapter';
import type { EntityInfo } from '../entity/entity-info.js';
import { listenersRan } from './persist-context.js';
import { refuseLoneIndexes } from './index-columns.js';

/**
 * For writes that run with listeners off (`callListeners(false)`, `save(…, { listeners: false })`):
 * every encrypted field must already hold an envelope (or null). Plaintext is refused, so nothing
 * unencrypted reaches a marked column.
 *
 * @example
 * ```ts
 * assertCiphertextOnly(info, valueSets, queryBuilder.queryRunner); // throws PLAINTEXT_REJECTED on plaintext
 * ```
 */
export function assertCiphertextOnly(info: EntityInfo, rows: readonly unknown[], queryRunner?: object): void {
  for (const row of rows) {
    if (typeof row !== 'object' || row === null) continue;
    for (const { field } of info.fields) {
      const value = (row as Record<string, unknown>)[field];
      if (value === undefined || value === null || isEnvelope(value)) continue;
      if (listenersRan(queryRunner)) {
        throw new KeystrataError(
          'PLAINTEXT_REJECTED',
          `${info.model}.${field} would be written unencrypted: a listener or subscriber set it after Keystrata encrypted the entity (e.g. an async beforeInsert/beforeUpdate that assigns it after an await). Set encrypted fields before save(), or synchronously in the listener. Nothing was written.`,
        );
      }
      throw new KeystrataError(
        'PLAINTEXT_REJECTED',
        `${info.model}.${field} would be written unencrypted: listeners are off (callListeners(false) or { listeners: false }), so Keystrata cannot encrypt it. Nothing was written.`,
      );
    }
    refuseLoneIndexes(info, row as Record<string, unknown>);
  }
}
