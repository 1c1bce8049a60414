import { describeAdapterConformance, type ConformanceContext } from '@keystrata/testing/conformance';
import { STACKS, type Stack } from './support/stacks.js';

function context(s: Stack): ConformanceContext {
  const { db, raw } = s;
  return {
    async create(patient) {
      return (await db.patient.create({ data: patient, select: { id: true } })).id;
    },
    async read(id) {
      return db.patient.findUniqueOrThrow({ where: { id }, select: { tenantId: true, ssn: true, email: true } });
    },
    async updateSsn(id, ssn) {
      await db.patient.update({ where: { id }, data: { ssn } });
    },
    async findIdsByEmail(email) {
      return (await db.patient.findMany({ where: { email }, select: { id: true } })).map((p) => p.id);
    },
    async rawRead(id) {
      return (await raw.all('SELECT * FROM "Patient" WHERE "id" = ?', [id]))[0]!;
    },
    async rawWrite(id, field, value) {
      await raw.run(`UPDATE "Patient" SET "${field}" = ? WHERE "id" = ?`, [value, id]);
    },
    async rawCount() {
      return Number((await raw.all('SELECT COUNT(*) AS n FROM "Patient"'))[0]!.n);
    },
    async revokeTenant(tenantId) {
      await s.hierarchy.disable({ kind: 'segment', segment: `tenantId:${tenantId}` });
    },
    async breakHsm() {
      await s.rootKey.close();
      s.hierarchy.clearCache();
    },
    unsupportedQueries: {
      containsSsn: () => db.patient.findMany({ where: { ssn: { contains: 'CANARY' } } }),
      startsWithEmail: () => db.patient.findFirst({ where: { email: { startsWith: 'canary' } } }),
      orderByEmail: () => db.patient.findMany({ orderBy: { email: 'asc' } }),
      rangeOnSsn: () => db.patient.count({ where: { ssn: { gt: 'A' } } }),
      groupByEmail: () => db.patient.groupBy({ by: ['email'] }),
      maxOfSsn: () => db.patient.aggregate({ _max: { ssn: true } }),
      equalityWithoutIndex: () => db.patient.findMany({ where: { ssn: 'CANARY-SSN-query-000' } }),
    },
    teardown: () => s.close(),
  };
}

for (const [name, makeStack] of STACKS) {
  describeAdapterConformance({ name: `prisma/${name}`, setup: async () => context(await makeStack()) });
}
