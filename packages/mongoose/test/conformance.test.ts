import { describeAdapterConformance, type ConformanceContext } from '@keystrata/testing/conformance';
import { openFixture } from './support/fixture.js';

async function setup(): Promise<ConformanceContext> {
  const f = await openFixture();
  const raw = f.raw.collection('patients');
  const plain = (doc: { tenantId?: string | null; ssn?: string | null; email?: string | null } | null) => ({ tenantId: String(doc?.tenantId), ssn: String(doc?.ssn), email: String(doc?.email) });
  return {
    async create(patient) {
      return String((await f.Patient.create(patient))._id);
    },
    async read(id) {
      return plain(await f.Patient.findById(id).lean());
    },
    async updateSsn(id, ssn) {
      await f.Patient.updateOne({ _id: id }, { $set: { ssn } });
    },
    async findIdsByEmail(email) {
      return (await f.Patient.find({ email }, { _id: 1 }).lean()).map((p) => String(p._id));
    },
    async rawRead(id) {
      return (await raw.findOne({ _id: new f.connection.base.Types.ObjectId(id) as never })) ?? {};
    },
    async rawWrite(id, field, value) {
      await raw.updateOne({ _id: new f.connection.base.Types.ObjectId(id) as never }, { $set: { [field]: value } });
    },
    rawCount: () => raw.countDocuments(),
    async revokeTenant(tenantId) {
      await f.hierarchy.disable({ kind: 'segment', segment: `tenantId:${tenantId}` });
    },
    async breakHsm() {
      await f.rootKey.break();
      f.hierarchy.clearCache();
    },
    unsupportedQueries: {
      'regex on ssn': () => f.Patient.find({ ssn: /CANARY/ }),
      'order by email': () => f.Patient.find().sort({ email: -1 }),
      '$gt on email': () => f.Patient.find({ email: { $gt: 'a' } }),
      'equality on ssn (no blind index)': () => f.Patient.findOne({ ssn: 'CANARY-SSN-query-000' }),
      '$inc on ssn': () => f.Patient.updateMany({}, { $inc: { ssn: 1 } }),
    },
    teardown: () => f.teardown(),
  };
}

describeAdapterConformance({ name: 'mongoose (FerretDB or MONGODB_URI)', setup });
