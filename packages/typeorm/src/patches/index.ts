import { InsertQueryBuilder } from 'typeorm';
import { patchContextColumns } from './context-columns.js';
import { patchInsert } from './insert.js';
import { patchLoad } from './load.js';
import { patchPersist } from './persist.js';
import { patchSelect } from './select.js';
import { patchUpdate } from './update.js';

const PATCHED = Symbol.for('keystrata.typeorm.patched');

/**
 * Installs the QueryBuilder and persistence wrappers once per process. They act only on
 * DataSources Keystrata is installed on; every other DataSource runs TypeORM's code unchanged.
 *
 * @example
 * ```ts
 * ensurePatched();
 * ```
 */
export function ensurePatched(): void {
  const marker = InsertQueryBuilder.prototype as unknown as Record<symbol, boolean>;
  if (marker[PATCHED]) return;
  marker[PATCHED] = true;
  patchInsert();
  patchUpdate();
  patchSelect();
  patchPersist();
  patchLoad();
  patchContextColumns();
}
