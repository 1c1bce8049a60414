import type {} from '@keystrata/testing';
import { MongoClient } from 'mongodb';
import mongoose from 'mongoose';
import { inject } from 'vitest';

/** A fresh database name for one test. */
export const freshDbName = (prefix = 'ks'): string => `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

/** A Mongoose connection to a fresh database on the run's server (FerretDB or MONGODB_URI). */
export async function openConnection(dbName = freshDbName()): Promise<mongoose.Connection> {
  return mongoose.createConnection(inject('mongodbUri'), { dbName, serverSelectionTimeoutMS: 10_000 }).asPromise();
}

/** A plain mongodb driver client for raw reads that bypass Mongoose and the plugin. */
export async function openRawClient(): Promise<MongoClient> {
  return new MongoClient(inject('mongodbUri'), { serverSelectionTimeoutMS: 10_000 }).connect();
}
