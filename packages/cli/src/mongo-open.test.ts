import { readFileSync } from 'node:fs';
import { KeystrataError } from '@keystrata/core';
import { describe, expect, it } from 'vitest';
import { openMongoKeyStore } from './mongo-open.js';

const missing = (name: string) => Object.assign(new Error(`Cannot find package '${name}' imported from /app/node_modules/@keystrata/cli/dist/mongo-open.js`), { code: 'ERR_MODULE_NOT_FOUND' });

describe('openMongoKeyStore without the MongoDB packages', () => {
  it.each(['@keystrata/mongoose', 'mongoose'])('issue 12 (CLI): a missing %s is CONFIG_INVALID naming the package to install', async (absent) => {
    const loader = async (name: string) => {
      if (name === absent) throw missing(absent);
      return import(name);
    };
    const error = await openMongoKeyStore('mongodb://127.0.0.1:9/x', {}, loader).catch((e: unknown) => e);
    expect(KeystrataError.isInstance(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toContain(`needs the package ${absent}`);
    expect((error as Error).message).toContain('npm install @keystrata/mongoose mongoose');
  });

  it('issue 12 (CLI): SQL users need neither package: the CLI loads them only for a mongodb:// URL', () => {
    for (const file of ['open.js', 'mongo-open.js', 'main.js']) {
      const code = readFileSync(new URL(`../dist/${file}`, import.meta.url), 'utf8');
      expect(code, file).not.toMatch(/^import[^;]*from ['"](@keystrata\/mongoose|mongoose|mongodb)['"]/m);
    }
  });
});
