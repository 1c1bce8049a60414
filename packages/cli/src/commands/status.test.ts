import type { HierarchyStatus } from '@keystrata/core';
import { describe, expect, it } from 'vitest';
import { renderStatus } from './status.js';

const cache = { size: 0, hits: 0, misses: 0 } as unknown as HierarchyStatus['stats']['deks'];
const shreds = { durable: 0, pending: 0, pendingSince: null, lastDurableAt: null, keys: [], epochRunningSince: null };

describe('keystrata status', () => {
  it('issue 13 §1: keystrata status shows the blind-index key on its own line, not among the DEKs', () => {
    const text = renderStatus({
      root: 'software',
      keyrings: [{ keyring: 'default', cmks: [], keks: [], deks: { primary: 2 }, blindIndexKeys: { primary: 1 }, shreds }],
      stats: { deks: cache, keks: cache, hsmCalls: 0, hsmReconnects: 0, keyStoreQueries: 0, aead: 'native' },
    });
    expect(text).toContain('      DEKs: 2 primary\n');
    expect(text).toContain('      blind-index key: 1 primary (derives blind-index HMAC keys; not a DEK)');
    const none = renderStatus({
      root: 'software',
      keyrings: [{ keyring: 'default', cmks: [], keks: [], deks: {}, blindIndexKeys: {}, shreds }],
      stats: { deks: cache, keks: cache, hsmCalls: 0, hsmReconnects: 0, keyStoreQueries: 0, aead: 'native' },
    });
    expect(none).toContain('DEKs: none yet');
    expect(none).not.toContain('blind-index key');
  });

  it('issue 16 §fallback: keystrata status says whether field values go through the native addon or node:crypto', () => {
    const render = (aead: 'native' | 'node:crypto') => renderStatus({ root: 'software', keyrings: [], stats: { deks: cache, keks: cache, hsmCalls: 0, hsmReconnects: 0, keyStoreQueries: 0, aead } });
    expect(render('native')).toContain('field encryption: AES-256-GCM in native batches (@keystrata/native)');
    expect(render('node:crypto')).toContain('field encryption: AES-256-GCM via node:crypto (the @keystrata/native addon is not in use');
  });
});
