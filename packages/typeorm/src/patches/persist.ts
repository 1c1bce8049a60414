import { SubjectExecutor } from 'typeorm/persistence/SubjectExecutor.js';
import { restore } from '../write/stash.js';
import { inPersist } from '../write/persist-context.js';

/**
 * Wraps the executor behind `save()`/`remove()`: whatever happens (a failed INSERT, a rolled-back
 * transaction), every entity of the operation, cascaded ones included, holds plaintext again
 * afterwards. Objects the adapter never encrypted are not touched.
 *
 * @example
 * ```ts
 * patchPersist(); // once per process
 * ```
 */
export function patchPersist(): void {
  const original = SubjectExecutor.prototype.execute;
  SubjectExecutor.prototype.execute = async function (this: SubjectExecutor) {
    try {
      const options = (this as unknown as { options?: { listeners?: boolean } }).options;
      return await inPersist((this as unknown as { queryRunner?: object }).queryRunner, options?.listeners !== false, () => original.call(this));
    } finally {
      for (const subject of (this as unknown as { allSubjects: Array<{ entity?: unknown }> }).allSubjects) restore(subject.entity);
    }
  };
}
