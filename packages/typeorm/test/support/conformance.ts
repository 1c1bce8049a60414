import type { ConformanceHarness } from '@keystrata/testing/conformance';
import { Like, MoreThan } from 'typeorm';
import { Patient } from './entities.js';
import { breakHsm } from './helpers.js';
import { openStack, type Kind } from './stack.js';

/** The shared adapter conformance harness for @keystrata/typeorm on one database kind. */
export function typeormHarness(kind: Kind): ConformanceHarness {
  return {
    name: `typeorm/${kind}`,
    async setup() {
      const s = await openStack(kind);
      const repo = s.dataSource.getRepository(Patient);
      return {
        create: async (p) => (await repo.save({ ...p })).id,
        async read(id) {
          const p = await repo.findOneByOrFail({ id });
          return { tenantId: p.tenantId, ssn: p.ssn, email: p.email! };
        },
        updateSsn: async (id, ssn) => {
          await repo.update(id, { ssn });
        },
        findIdsByEmail: async (email) => (await repo.findBy({ email })).map((p) => p.id),
        rawRead: async (id) => (await s.raw.all('SELECT * FROM patient WHERE id = ?', [id]))[0]!,
        rawWrite: (id, field, value) => s.raw.run(`UPDATE patient SET ${field} = ? WHERE id = ?`, [value, id]),
        rawCount: async () => Number((await s.raw.all('SELECT COUNT(*) AS n FROM patient'))[0]!.n),
        revokeTenant: async (tenantId) => {
          await s.keystrata.hierarchy.disable({ kind: 'segment', segment: `tenantId:${tenantId}` });
        },
        breakHsm: () => breakHsm(s),
        unsupportedQueries: {
          containsOnSsn: () => repo.findBy({ ssn: Like('%1%') }),
          rangeOnEmail: () => repo.findBy({ email: MoreThan('a') }),
          orderByEmail: () => repo.find({ order: { email: 'ASC' } }),
          equalityOnUnindexedSsn: () => repo.findBy({ ssn: 'x' }),
        },
        teardown: () => s.close(),
      };
    },
  };
}
