/**
 * Mongoose 9 on FerretDB (SQLite backend), or on MONGODB_URI when set: plain Mongoose, Keystrata
 * (the `keystrata` schema plugin, MongoKeyStore), mongoose-field-encryption 7.0.1 and raw
 * AES-256-GCM, interleaved in one process; one database (and connection) per variant.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { fieldEncryption } from 'mongoose-field-encryption';
import { inject, it } from 'vitest';
import type { KeyHierarchy } from '@keystrata/core';
import { keystrata, MongoKeyStore, mongooseReencryptionHook } from '@keystrata/mongoose';
import { ROTATION_TENANT, type PatientRow } from './data.js';
import { kekVersions, openHierarchy } from './keys.js';
import { packageVersion } from './machine.js';
import { RAW_DESCRIPTION } from './raw.js';
import { writePart, type OrmPart } from './part.js';
import { aeadPath } from './report-issue16.js';
import { assertNoFailures, runOrmWorkloads, type OrmVariant, type ReadRow, type StoredRow } from './workloads.js';

interface Patient {
  seq: number;
  tenantId: string;
  email: string;
  ssn: string;
  emailIndex?: string;
}
type Doc = Record<string, unknown> & { _id: unknown };

const VARIANTS: OrmPart['variants'] = {
  plain: 'connection.model() with plain String paths (email indexed), hydrated documents',
  keystrata: "schema.plugin(keystrata, { hierarchy, segment: { by: 'tenant' } }); email { encrypted: { index: 'emailIndex' } }, ssn { encrypted: true }; MongoKeyStore in the same database",
  peer: "schema.plugin(fieldEncryption, { fields: ['email', 'ssn'], secret }): AES-256-CBC, random IV, no MAC; inserts pre-encrypted with encryptFieldsSync() + bulkWrite (its insertMany hook is broken on Mongoose 9)",
  raw: RAW_DESCRIPTION,
};

const fields = {
  seq: { type: Number, index: true },
  tenantId: { type: String, index: true },
};
/** Plain paths; emailIndex as in the keystrata collection (absent here) so the breakdown's scratch copy has the same indexes. */
const plainSchema = (): Schema<Patient> => new Schema<Patient>({ ...fields, email: { type: String, index: true }, emailIndex: { type: String, index: true }, ssn: String });
const keystrataSchema = (hierarchy: KeyHierarchy): Schema<Patient> => {
  const schema = new Schema<Patient>({ ...fields, email: { type: String, encrypted: { index: 'emailIndex' } }, emailIndex: { type: String, index: true }, ssn: { type: String, encrypted: true } });
  schema.plugin(keystrata, { hierarchy, segment: { by: 'tenant', field: 'tenantId' } });
  return schema;
};

/** Drops the collection and builds the schema's indexes again. */
async function recreate(model: Model<Patient>): Promise<void> {
  await model.collection.drop().catch(() => undefined);
  await model.createCollection();
  await model.createIndexes();
}

const plainRows = (rows: readonly PatientRow[]) => rows.map((r) => ({ seq: r.seq, tenantId: r.tenantId, email: r.email, ssn: r.ssn }));

/** Plain W5: the I/O of a re-encryption pass without crypto, as the Keystrata hook does it (pages by _id through the driver, one bulkWrite of compare-and-swap updateOne per page). */
async function rewriteTenant(model: Model<Patient>, pageSize: number): Promise<number> {
  let written = 0;
  let after: unknown;
  for (;;) {
    const filter = { tenantId: ROTATION_TENANT, ...(after === undefined ? {} : { _id: { $gt: after } }) };
    const page = (await model.collection.find(filter as never, { sort: { _id: 1 }, limit: pageSize }).toArray()) as Doc[];
    if (page.length === 0) return written;
    const ops = page.map((d) => ({ updateOne: { filter: { _id: d._id, email: d.email, ssn: d.ssn }, update: { $set: { email: d.email, ssn: d.ssn } } } }));
    // In commands of at most 50 updates, as the keystrata hook sends them (FerretDB 1.24 hangs on ~100).
    for (let at = 0; at < ops.length; at += 50) written += (await model.collection.bulkWrite(ops.slice(at, at + 50) as never)).matchedCount;
    after = page.at(-1)!._id;
    if (page.length < pageSize) return written;
  }
}

function variantOf(model: Model<Patient>, insertBatch: OrmVariant['insertBatch'], findByEmail: OrmVariant['findByEmail'], rotate: OrmVariant['rotate']): OrmVariant {
  return {
    recreate: () => recreate(model),
    insertBatch,
    readAll: () => model.find() as unknown as Promise<ReadRow[]>,
    findByEmail,
    readSeqBelow: (limit) => model.find({ seq: { $lt: limit } }) as unknown as Promise<ReadRow[]>,
    rotate,
  };
}

it('mongoose: plain vs keystrata vs mongoose-field-encryption vs raw AES-256-GCM', async () => {
  const started = performance.now();
  const versions = {
    mongoose: packageVersion('mongoose'),
    mongodb: packageVersion('mongodb'),
    'mongoose-field-encryption': packageVersion('mongoose-field-encryption'),
    '@keystrata/mongoose': packageVersion('@keystrata/mongoose'),
  };
  const unavailable = inject('mongodbUnavailable');
  const base = { orm: 'mongoose' as const, label: `Mongoose ${versions.mongoose}`, variants: VARIANTS, kekVersions: 0, versions, workloads: [] };
  if (unavailable !== '') {
    writePart({ ...base, status: 'gap', gap: `no MongoDB wire-protocol server: ${unavailable} (run bash scripts/setup for FerretDB, or set MONGODB_URI)`, database: 'none', durationMs: 0 });
    return;
  }
  const uri = inject('mongodbUri');
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const connect = (name: string): Promise<Connection> => mongoose.createConnection(uri, { dbName: `ks_bench_${name}_${suffix}`, serverSelectionTimeoutMS: 10_000 }).asPromise();
  const [plainConn, ksConn, peerConn] = await Promise.all([connect('plain'), connect('keystrata'), connect('peer')]);
  const build = (await plainConn.db!.admin().command({ buildInfo: 1 })) as { version?: string; ferretdbVersion?: string };
  const server = build.ferretdbVersion !== undefined ? `FerretDB ${build.ferretdbVersion} (wire version ${build.version ?? '?'})` : `MongoDB ${build.version ?? '?'}`;
  let hierarchy: KeyHierarchy | undefined;
  try {
    const Plain = plainConn.model<Patient>('Patient', plainSchema());
    hierarchy = await openHierarchy(new MongoKeyStore(ksConn.db!), 'mongoose');
    const h = hierarchy;
    const Ks = ksConn.model<Patient>('Patient', keystrataSchema(h));
    const peerSchema = new Schema<Patient>({ ...fields, email: String, ssn: String });
    peerSchema.plugin(fieldEncryption, { fields: ['email', 'ssn'], secret: randomBytes(32).toString('hex') });
    const Peer = peerConn.model<Patient>('Patient', peerSchema);
    // Breakdown: the keystrata collection through a plain model (envelopes as stored); a scratch collection.
    const Stored = ksConn.model<Patient>('StoredPatient', plainSchema(), 'patients');
    const Scratch = plainConn.model<Patient>('ScratchPatient', plainSchema(), 'scratch_patients');
    // The same collection with the keystrata collection's indexes (none on email), for the breakdown's stored values.
    const ScratchKs = plainConn.model<Patient>('ScratchKsPatient', new Schema<Patient>({ ...fields, email: String, emailIndex: { type: String, index: true }, ssn: String }), 'scratch_patients');

    // FerretDB 1.24 (SQLite backend) pushes down only a lone {_id} filter: any other filter scans the
    // collection in FerretDB (about 130-160 ms for 10,000 documents). W3 then runs 50 lookups, and W5
    // runs on a collection holding only the rotation tenant's 1,000 documents (the hook's
    // compare-and-swap updateOne({ _id, email, ssn }) scans too), with 0+2 rounds. (FerretDB 1.24 also
    // never answers an update command of about 100 statements or more; the hook sends at most 50 per
    // command, so W5 rotates with the default batch size.) MONGODB_URI runs the full size.
    const ferret = build.ferretdbVersion !== undefined;
    const rotationBatch = 200;
    const Rot = {
      plain: ferret ? plainConn.model<Patient>('RotationPatient', plainSchema(), 'rotation_patients') : Plain,
      keystrata: ferret ? ksConn.model<Patient>('RotationPatient', keystrataSchema(h), 'rotation_patients') : Ks,
    };
    if (ferret) for (const model of [Rot.plain, Rot.keystrata]) await recreate(model);
    const hook = mongooseReencryptionHook(Rot.keystrata);
    for (const model of [Plain, Ks, Peer]) await recreate(model);
    const separate = ferret
      ? {
          plain: {
            insertRotationBatch: async (rows: readonly PatientRow[]) => {
              await Rot.plain.insertMany(plainRows(rows));
            },
          },
          keystrata: {
            insertRotationBatch: async (rows: readonly PatientRow[]) => {
              await Rot.keystrata.insertMany(plainRows(rows));
            },
          },
          peer: { insertRotationBatch: async () => {} }, // the peer has no rotation (n/a)
        }
      : { plain: {}, keystrata: {}, peer: {} };

    const workloads = await runOrmWorkloads({
      hierarchy: h,
      breakdown: {
        model: 'Patient',
        readCiphertext: async () => (await Stored.find()).map((d): StoredRow => ({ id: String(d._id), seq: d.seq, tenantId: d.tenantId, email: d.email, ssn: d.ssn, emailIndex: d.emailIndex ?? '' })),
        recreateScratch: (layout) => recreate(layout === 'plain' ? Scratch : ScratchKs),
        insertScratch: async (rows) => {
          await Scratch.insertMany(rows.map((r) => ({ seq: r.seq, tenantId: r.tenantId, email: r.email, ssn: r.ssn, ...(r.emailIndex === undefined ? {} : { emailIndex: r.emailIndex }) })));
        },
      },
      ...(ferret ? { lookups: 50, rounds: { W3: { warmup: 0, rounds: 3 }, W5: { warmup: 0, rounds: 2 } } } : {}),
      plain: {
        ...variantOf(
          Plain,
          async (rows) => {
            await Plain.insertMany(plainRows(rows));
          },
          (email) => Plain.findOne({ email }) as unknown as Promise<ReadRow | null>,
          () => rewriteTenant(Rot.plain, rotationBatch),
        ),
        ...separate.plain,
      },
      keystrata: {
        ...variantOf(
          Ks,
          async (rows) => {
            await Ks.insertMany(plainRows(rows));
          },
          (email) => Ks.findOne({ email }) as unknown as Promise<ReadRow | null>,
          async () => {
            const result = await h.rotateDek({ segment: `tenantId:${ROTATION_TENANT}`, hook, batchSize: rotationBatch });
            return result.reencrypted;
          },
        ),
        ...separate.keystrata,
      },
      peer: {
        ...variantOf(
          Peer,
          async (rows) => {
            // insertMany fails on Mongoose 9 (the plugin's pre('insertMany') takes (next, docs)): encrypt each document, then bulkWrite.
            const ops = rows.map((r) => {
              const doc = new Peer({ seq: r.seq, tenantId: r.tenantId, email: r.email, ssn: r.ssn }) as unknown as { encryptFieldsSync(): void; toObject(): object };
              doc.encryptFieldsSync();
              return { insertOne: { document: doc.toObject() } };
            });
            await Peer.bulkWrite(ops as never);
          },
          'mongoose-field-encryption has no hash or blind-index field; equality works only with a fixed saltGenerator (a fixed CBC IV for every field: deterministic, leaks equality and shared 16-byte prefixes).',
          'mongoose-field-encryption has no key id or key rotation: one secret per schema.',
        ),
        ...separate.peer,
      },
      notes: {
        W1: { plain: 'Model.insertMany per batch', keystrata: 'Model.insertMany per batch', peer: 'new Model() + encryptFieldsSync() per document, Model.bulkWrite(insertOne) per batch' },
        W3: {
          plain: 'findOne on an ordinary index of email',
          keystrata: 'findOne rewritten to the HMAC blind index (emailIndex)',
          ...(ferret
            ? {
                '*': "FerretDB: 50 lookups (0+3 rounds); each findOne is a collection scan in FerretDB, so plain and keystrata times are dominated by it and keystrata's overhead includes scanning its larger documents",
              }
            : {}),
        },
        W4: { peer: 'same read; the peer has one static key, no key cache to empty' },
        W5: {
          plain: `the I/O of a re-encryption pass without crypto: pages of ${rotationBatch} by _id, compare-and-swap updateOne in bulkWrites of 50 (as the hook sends them)`,
          keystrata: `hierarchy.rotateDek with mongooseReencryptionHook (batchSize ${rotationBatch})`,
          ...(ferret
            ? {
                '*': "FerretDB: the rotation tenant's 1,000 documents live in their own collection (rotation_patients), because every compare-and-swap update scans the collection in FerretDB (about 20 s per rotation, for plain too), 0+2 rounds; the hook writes each batch of 200 in commands of at most 50 updates, because FerretDB 1.24 never answers an update command of about 100 statements or more",
              }
            : {}),
        },
      },
    });

    writePart({
      ...base,
      status: 'ok',
      kekVersions: await kekVersions(h),
      database: `${server}; one database per variant`,
      versions: { ...versions, server },
      workloads,
      durationMs: performance.now() - started,
      aead: aeadPath(h),
    });
    assertNoFailures(workloads);
  } finally {
    await hierarchy?.close();
    for (const conn of [plainConn, ksConn, peerConn]) {
      await conn.dropDatabase().catch(() => undefined);
      await conn.close();
    }
  }
});
