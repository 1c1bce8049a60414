import { randomBytes } from 'node:crypto';
import type { RotationJob, RotationJobQueue, RotationProgress } from './rotation-queue.js';

/** One job as stored: a document per batch or finish. */
interface JobDocument {
  readonly _id: string;
  readonly rotation: string;
  readonly job: RotationJob;
  readonly priority: number;
  readonly state: 'waiting' | 'active' | 'done' | 'failed';
  /** Times taken (an expired lease counts). */
  readonly attempts: number;
  readonly availableAt: Date;
  readonly leaseUntil: Date;
  readonly leaseTag: string;
}

/**
 * The part of a MongoDB driver `Collection` used here (mongoose's `connection.db.collection(name)`).
 *
 * @example
 * ```ts
 * const collection: MongoCollectionLike = mongoose.connection.db!.collection('keystrata_rotation_jobs');
 * const queue = createMongoRotationQueue(collection, { leaseMs: 60_000 });
 * ```
 */
export interface MongoCollectionLike {
  findOneAndUpdate(filter: object, update: object, options: object): Promise<unknown>;
  updateOne(filter: object, update: object): Promise<unknown>;
  insertMany(documents: object[]): Promise<unknown>;
  deleteMany(filter: object): Promise<unknown>;
  countDocuments(filter: object): Promise<number>;
  find(filter: object): { toArray(): Promise<unknown[]> };
}

/**
 * A {@link RotationJobQueue} in a MongoDB collection (the key store's database), leased with
 * `findOneAndUpdate`: a worker sets a job `active` with a lease end and a random tag; a job whose
 * lease ended (its worker died) is taken again by the next `take`. Completing or releasing a job
 * applies only with the tag of the lease, so a worker whose lease was taken over changes nothing.
 *
 * @example
 * ```ts
 * const queue = createMongoRotationQueue(mongoose.connection.db!.collection('keystrata_rotation_jobs'), { leaseMs: 60_000 });
 * ```
 */
export function createMongoRotationQueue(collection: MongoCollectionLike, options: { readonly leaseMs?: number; readonly retryLimit?: number } = {}): RotationJobQueue {
  const leaseMs = options.leaseMs ?? 60_000;
  const attemptLimit = (options.retryLimit ?? 100) + 1;
  const ready = (at: Date) => ({
    // Only batches are given up: a finish (priority 0) is taken again and again while batches run.
    $and: [{ $or: [{ priority: 0 }, { attempts: { $lt: attemptLimit } }] }],
    $or: [
      { state: 'waiting', availableAt: { $lte: at } },
      { state: 'active', leaseUntil: { $lte: at } },
    ],
  });
  return {
    async enqueue(rotation, jobs) {
      await collection.deleteMany({ rotation });
      const epoch = new Date(0);
      await collection.insertMany(
        jobs.map(
          (job, index): JobDocument => ({
            _id: `${rotation}:${index}`,
            rotation,
            job,
            priority: job.kind === 'batch' ? 1 : 0,
            state: 'waiting',
            attempts: 0,
            availableAt: epoch,
            leaseUntil: epoch,
            leaseTag: '',
          }),
        ),
      );
    },
    async take() {
      const at = new Date();
      const leaseUntil = new Date(at.getTime() + leaseMs);
      const leaseTag = randomBytes(8).toString('hex');
      // Given up after too many attempts (pg-boss's retryLimit): the finish's verification re-encrypts their rows.
      await collection.updateOne({ priority: 1, attempts: { $gte: attemptLimit }, $or: [{ state: 'waiting' }, { state: 'active', leaseUntil: { $lte: at } }] }, { $set: { state: 'failed' } });
      const found = (await collection.findOneAndUpdate(
        ready(at),
        { $set: { state: 'active', leaseUntil, leaseTag }, $inc: { attempts: 1 } },
        { sort: { priority: -1, _id: 1 }, returnDocument: 'after' },
      )) as JobDocument | { value?: JobDocument | null } | null;
      // Driver 6+ returns the document; older drivers wrap it in { value }.
      const doc = found !== null && 'value' in found ? found.value : (found as JobDocument | null);
      if (doc === null || doc === undefined) return undefined;
      return { rotation: doc.rotation, id: `${doc._id}#${leaseTag}`, job: doc.job, leaseEndsAt: leaseUntil.getTime() };
    },
    async complete(taken) {
      const [id, leaseTag] = taken.id.split('#');
      await collection.updateOne({ _id: id, leaseTag, state: 'active' }, { $set: { state: 'done' } });
    },
    async release(taken, delayMs) {
      const [id, leaseTag] = taken.id.split('#');
      await collection.updateOne({ _id: id, leaseTag, state: 'active' }, { $set: { state: 'waiting', availableAt: new Date(Date.now() + delayMs) } });
    },
    remaining: (rotation) => collection.countDocuments({ rotation, state: { $in: ['waiting', 'active'] } }),
    async progress() {
      const docs = (await collection.find({}).toArray()) as JobDocument[];
      const at = Date.now();
      return [...new Set(docs.map((d) => d.rotation))].map((rotation): RotationProgress => {
        const own = docs.filter((d) => d.rotation === rotation);
        const finish = own.find((d) => d.job.kind === 'finish')?.job;
        return {
          rotation,
          ...(finish?.kind === 'finish' ? { keyring: finish.keyring, segment: finish.segment } : {}),
          total: own.length,
          done: own.filter((d) => d.state === 'done').length,
          active: own.filter((d) => d.state === 'active' && d.leaseUntil.getTime() > at).length,
          failed: own.filter((d) => d.state === 'failed').length,
        };
      });
    },
    async remove(rotation) {
      await collection.deleteMany({ rotation });
    },
    async close() {},
  };
}
