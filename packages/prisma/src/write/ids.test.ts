import { describe, expect, it } from 'vitest';
import { generateId } from './ids.js';

describe('client-side ids', () => {
  it('look like the ids Prisma would generate, are unique, and are undefined for database ids', () => {
    const formats: Record<string, RegExp> = {
      cuid: /^c[0-9a-z]{24}$/,
      cuid2: /^[a-z][0-9a-z]{23}$/,
      nanoid: /^[A-Za-z0-9_-]{21}$/,
      ulid: /^[0-9A-HJKMNP-TV-Z]{26}$/,
      uuid4: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      uuid7: /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    };
    for (const [strategy, format] of Object.entries(formats)) {
      const ids = Array.from({ length: 200 }, () => generateId(strategy as 'cuid'));
      for (const id of ids) expect(id, strategy).toMatch(format);
      expect(new Set(ids).size, strategy).toBe(200);
    }
    expect(Number.parseInt(generateId('uuid7')!.replace(/-/g, '').slice(0, 12), 16)).toBeCloseTo(Date.now(), -4);
    expect(generateId('database')).toBeUndefined();
    expect(generateId('client')).toBeUndefined();
  });
});
