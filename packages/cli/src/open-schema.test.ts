import { KeystrataError } from '@keystrata/core';
import { describe, expect, it } from 'vitest';
import type { ResolvedConfig } from './config.js';
import { checkConfig } from './config-check.js';
import { openKeyStore } from './open.js';

const resolved = (keyStore: { url: string; schema: string }): ResolvedConfig => ({ file: 'keystrata.config.json', dir: '/nonexistent', exists: true, config: { keyStore } });

describe('keyStore.schema', () => {
  it('issue 13 §1: keyStore.schema is checked, and refused for a key store that is not PostgreSQL (never silently ignored)', async () => {
    expect(() => checkConfig('keystrata.config.json', { keyStore: { url: 'postgres://h/db', schema: 7 } })).toThrow(/keyStore\.schema must be a non-empty string/);
    const error = await openKeyStore(resolved({ url: 'sqlite:/nonexistent/keys.db', schema: 'keystrata' })).catch((e: unknown) => e);
    expect(KeystrataError.isInstance(error) && error.code).toBe('CONFIG_INVALID');
    expect((error as Error).message).toMatch(/keyStore\.schema applies to postgres:\/\/ key stores only/);
    const bad = await openKeyStore(resolved({ url: 'postgres://nobody@127.0.0.1:1/none', schema: 'Key-Strata' })).catch((e: unknown) => e);
    expect(KeystrataError.isInstance(bad) && bad.code).toBe('CONFIG_INVALID');
  });
});
