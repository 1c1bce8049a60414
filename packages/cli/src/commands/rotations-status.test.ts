import { describe, expect, it } from 'vitest';
import { renderRotations } from './status.js';

describe('keystrata status: DEK rotations run by workers', () => {
  it('issue 15 §2: shows each rotation by segment with its jobs done, held by workers and given up', () => {
    const text = renderRotations([
      { rotation: 'keystrata-dek-a', keyring: 'default', segment: 'tenantId:acme', total: 41, done: 17, active: 4, failed: 0 },
      { rotation: 'keystrata-dek-b', keyring: 'eu', segment: 'tenantId:globex', total: 9, done: 7, active: 0, failed: 1 },
    ]);
    expect(text.split('\n')).toEqual([
      'DEK rotations in the job queue (batches and finish, across every worker):',
      '  segment "tenantId:acme" (keyring default): 17/41 done, 4 held by workers',
      '  segment "tenantId:globex" (keyring eu): 7/9 done, 0 held by workers, 1 given up (the finish\'s verification re-encrypts their rows)',
    ]);
    expect(renderRotations([])).toBe('DEK rotations in the job queue: none');
  });
});
