import type { EntityInfo } from '../entity/entity-info.js';
import type { AdapterState } from '../state.js';

type Row = Record<string, unknown>;

/**
 * Decrypts, in place, the encrypted fields of loaded rows, `lists[i]` holding entities of
 * `infos[i]` (anything else in a list, e.g. the promise of a lazy relation, is skipped), in one
 * core batch (`RecordEncryptor.decryptGroups`). A stored non-envelope is an error, never
 * plaintext; with `onUnreadable: 'placeholder'` unreadable values become UnreadableValue instead.
 *
 * @example
 * ```ts
 * await decryptRows(state, [patientInfo, clinicInfo], [patients, clinics]);
 * ```
 */
export function decryptRows(state: AdapterState, infos: readonly EntityInfo[], lists: ReadonlyArray<readonly unknown[]>): Promise<void> {
  return state.records.decryptGroups(
    infos.map((info, l) => ({
      model: info.model,
      rows: lists[l]!.filter((entity): entity is Row => typeof entity === 'object' && entity !== null && !(entity instanceof Promise)),
    })),
  );
}
