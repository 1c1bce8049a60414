import { describe, expect, it } from 'vitest';
import { groupByField } from './field-groups.js';

describe('groupByField', () => {
  it('groups by keyring, model and field, keeping item order within a group', () => {
    const groups = groupByField(
      [
        { value: 'a', model: 'User', field: 'email' },
        { value: 'b', model: 'User', field: 'ssn' },
        { value: 'c', model: 'User', field: 'email', keyring: 'other' },
        { value: 'd', model: 'User', field: 'email' },
      ],
      'default',
    );
    expect(groups.map((g) => [g.keyring, g.field, g.indexes])).toEqual([
      ['default', 'email', [0, 3]],
      ['default', 'ssn', [1]],
      ['other', 'email', [2]],
    ]);
  });

  it('still groups right past the scan limit (many distinct fields in one batch)', () => {
    const items = Array.from({ length: 200 }, (_, i) => ({ value: i, model: 'M', field: `f${i % 50}` }));
    const groups = groupByField(items, 'default');
    expect(groups).toHaveLength(50);
    expect(groups[49]!.indexes).toEqual([49, 99, 149, 199]);
    expect(groups.flatMap((g) => g.indexes).sort((a, b) => a - b)).toEqual(items.map((_, i) => i));
  });

  it('rejects an item without a model or field', () => {
    expect(() => groupByField([{ value: 'a', model: '', field: 'email' }], 'default')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
