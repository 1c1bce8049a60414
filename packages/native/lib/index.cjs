'use strict';
// @keystrata/native: batch AES-256-GCM through OpenSSL's EVP interface (see README.md).
// One CommonJS module; lib/index.mjs re-exports it, so ESM and CommonJS share one binding.
const { join } = require('node:path');

const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const KEY_LENGTH = 32;
/** Uint32 words per sealBatch entry: key, iv, plaintext, plaintext length, aad, aad length, output. */
const SEAL_STRIDE = 7;
/** Uint32 words per openBatch entry: key, iv, ciphertext, ciphertext length, tag, aad, aad length, output. */
const OPEN_STRIDE = 8;
/** Values per native call in sealValues/openValues: bounds how long one call holds the event loop. */
const CHUNK_VALUES = 1024;
/** Uint32 words per hmacBatch entry: key, data, data length, output. */
const MAC_STRIDE = 4;
/** HMAC-SHA256 output length in bytes. */
const MAC_LENGTH = 32;

function loadBinding() {
  // KEYSTRATA_NATIVE_ADDON: another build of this addon (the AddressSanitizer build, scripts/asan.mjs).
  const file = process.env.KEYSTRATA_NATIVE_ADDON || join(__dirname, '..', 'build', 'Release', 'keystrata_native.node');
  return require(file);
}

let binding;
let loadFailure;
try {
  binding = loadBinding();
} catch (error) {
  // Only the class and code: a loader message names paths, never secrets, but keep it short.
  loadFailure = `${error?.code || error?.name || 'Error'}: the addon is not built (run \`npm rebuild @keystrata/native\`).`;
}

function nativeError(code, message) {
  const error = new Error(message);
  error.code = code;
  return error;
}

function requireBinding() {
  if (binding === undefined) throw nativeError('ERR_KEYSTRATA_NATIVE_UNAVAILABLE', `@keystrata/native is unavailable. ${loadFailure}`);
  return binding;
}

function isBytes(value) {
  return value instanceof Uint8Array;
}

/**
 * An AES-256 key in native memory with its initialised EVP contexts. The 32 bytes are copied; the
 * caller's buffer is left as it is. `release()` zero-fills and frees the native copy (a finalizer
 * does it for a key nobody released); a released key refuses every use.
 */
class AeadKey {
  constructor(bytes) {
    if (!isBytes(bytes) || bytes.length !== KEY_LENGTH) throw nativeError('ERR_KEYSTRATA_NATIVE_KEY_LENGTH', 'An AES-256-GCM key is exactly 32 bytes (a Uint8Array).');
    requireBinding().initKey(this, bytes);
  }

  /** Zero-fills and frees the native key now. Idempotent. */
  release() {
    binding.releaseKey(this);
  }

  /** Whether {@link AeadKey.release} has run. */
  get released() {
    return binding.isReleased(this);
  }

  toJSON() {
    return '[AeadKey]';
  }

  toString() {
    return '[AeadKey]';
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return `AeadKey(${this.released ? 'released' : 'live'})`;
  }
}

/**
 * An HMAC-SHA256 key (32 bytes) in native memory with its keyed EVP_MAC context; as AeadKey:
 * copied in, `release()` zero-fills and frees it, a released key refuses every use.
 */
class MacKey {
  constructor(bytes) {
    if (!isBytes(bytes) || bytes.length !== KEY_LENGTH) throw nativeError('ERR_KEYSTRATA_NATIVE_KEY_LENGTH', 'An HMAC-SHA256 key here is exactly 32 bytes (a Uint8Array).');
    requireBinding().initMacKey(this, bytes);
  }

  /** Zero-fills and frees the native key now. Idempotent. */
  release() {
    binding.releaseMacKey(this);
  }

  /** Whether {@link MacKey.release} has run. */
  get released() {
    return binding.isMacReleased(this);
  }

  toJSON() {
    return '[MacKey]';
  }

  toString() {
    return '[MacKey]';
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return `MacKey(${this.released ? 'released' : 'live'})`;
  }
}

/** Low level: HMAC-SHA256 of every entry of `table` (MAC_STRIDE words: key index, data, data length, output) into 32 bytes at its output offset. */
function hmacBatch(keys, table, input, output, status) {
  return requireBinding().hmacBatch(keys, table, input, output, status);
}

/** HMAC-SHA256 of many values, one native call per 1024: `{ key: MacKey, data }` → 32-byte Buffers (views into one buffer per chunk). */
function hmacValues(items) {
  if (!Array.isArray(items)) throw nativeError('ERR_KEYSTRATA_NATIVE_ARGUMENT', 'hmacValues needs an array of items.');
  const results = new Array(items.length);
  for (let start = 0; start < items.length; start += CHUNK_VALUES) {
    const end = Math.min(items.length, start + CHUNK_VALUES);
    const keys = [];
    const keyIndexes = new Map();
    let inputLength = 0;
    for (let i = start; i < end; i++) {
      const item = items[i];
      if (item === null || typeof item !== 'object' || !(item.key instanceof MacKey)) throw nativeError('ERR_KEYSTRATA_NATIVE_KEY', `Item ${i}: key is not a MacKey.`);
      if (!isBytes(item.data)) throw nativeError('ERR_KEYSTRATA_NATIVE_ARGUMENT', `Item ${i}: data must be a Uint8Array.`);
      inputLength += item.data.length;
    }
    const table = new Uint32Array((end - start) * MAC_STRIDE);
    const input = Buffer.alloc(inputLength);
    const output = Buffer.alloc((end - start) * MAC_LENGTH);
    let at = 0;
    for (let i = start; i < end; i++) {
      const { key, data } = items[i];
      let keyIndex = keyIndexes.get(key);
      if (keyIndex === undefined) keyIndexes.set(key, (keyIndex = keys.push(key) - 1));
      const row = (i - start) * MAC_STRIDE;
      input.set(data, at);
      table[row] = keyIndex;
      table[row + 1] = at;
      table[row + 2] = data.length;
      table[row + 3] = (i - start) * MAC_LENGTH;
      at += data.length;
    }
    const status = new Uint8Array(end - start);
    try {
      if (hmacBatch(keys, table, input, output, status) !== 0) throw nativeError('ERR_KEYSTRATA_NATIVE_OPENSSL', 'OpenSSL failed to compute an HMAC.');
    } finally {
      input.fill(0);
    }
    for (let i = start; i < end; i++) results[i] = output.subarray((i - start) * MAC_LENGTH, (i - start + 1) * MAC_LENGTH);
  }
  return results;
}

/** Test hook: releases `key` and returns its native key memory as it was just before the free (all zero). */
function releaseForTesting(key) {
  const readBack = new Uint8Array(KEY_LENGTH).fill(0xa5);
  if (key instanceof MacKey) requireBinding().releaseMacKey(key, readBack);
  else requireBinding().releaseKey(key, readBack);
  return readBack;
}

/** Low level: one native call over a table of offsets (see README.md); returns the failure count. */
function sealBatch(keys, table, input, output, status) {
  return requireBinding().sealBatch(keys, table, input, output, status);
}

/** Low level: one native call over a table of offsets (see README.md); returns the failure count. */
function openBatch(keys, table, input, output, status) {
  return requireBinding().openBatch(keys, table, input, output, status);
}

function checkItem(item, index, open) {
  if (item === null || typeof item !== 'object') throw nativeError('ERR_KEYSTRATA_NATIVE_ARGUMENT', `Item ${index} is not an object.`);
  if (!(item.key instanceof AeadKey)) throw nativeError('ERR_KEYSTRATA_NATIVE_KEY', `Item ${index}: key is not an AeadKey.`);
  if (!isBytes(item.iv) || item.iv.length !== IV_LENGTH) throw nativeError('ERR_KEYSTRATA_NATIVE_IV_LENGTH', `Item ${index}: the IV must be exactly 12 bytes.`);
  const data = open ? item.ciphertext : item.plaintext;
  if (!isBytes(data)) throw nativeError('ERR_KEYSTRATA_NATIVE_ARGUMENT', `Item ${index}: ${open ? 'ciphertext' : 'plaintext'} must be a Uint8Array.`);
  if (open && (!isBytes(item.tag) || item.tag.length !== TAG_LENGTH)) throw nativeError('ERR_KEYSTRATA_NATIVE_TAG_LENGTH', `Item ${index}: the tag must be exactly 16 bytes.`);
  if (item.aad !== undefined && !isBytes(item.aad)) throw nativeError('ERR_KEYSTRATA_NATIVE_ARGUMENT', `Item ${index}: aad must be a Uint8Array.`);
  return data.length;
}

/** Packs one chunk of items into (keys, table, input) and runs `call`; returns per-item output views. */
function runChunk(items, start, end, open, call) {
  const stride = open ? OPEN_STRIDE : SEAL_STRIDE;
  const keys = [];
  const keyIndexes = new Map();
  let inputLength = 0;
  let outputLength = 0;
  for (let i = start; i < end; i++) {
    const item = items[i];
    const length = checkItem(item, i, open);
    inputLength += IV_LENGTH + length + (open ? TAG_LENGTH : 0) + (item.aad === undefined ? 0 : item.aad.length);
    outputLength += length + (open ? 0 : TAG_LENGTH);
  }
  const table = new Uint32Array((end - start) * stride);
  const input = Buffer.allocUnsafe(inputLength);
  const output = Buffer.alloc(outputLength);
  let inputAt = 0;
  let outputAt = 0;
  const put = (bytes) => {
    input.set(bytes, inputAt);
    inputAt += bytes.length;
    return inputAt - bytes.length;
  };
  const spans = [];
  for (let i = start; i < end; i++) {
    const item = items[i];
    let keyIndex = keyIndexes.get(item.key);
    if (keyIndex === undefined) keyIndexes.set(item.key, (keyIndex = keys.push(item.key) - 1));
    const data = open ? item.ciphertext : item.plaintext;
    const aad = item.aad ?? new Uint8Array(0);
    const row = table.subarray((i - start) * stride);
    row[0] = keyIndex;
    row[1] = put(item.iv);
    row[2] = put(data);
    row[3] = data.length;
    if (open) {
      row[4] = put(item.tag);
      row[5] = put(aad);
      row[6] = aad.length;
      row[7] = outputAt;
    } else {
      row[4] = put(aad);
      row[5] = aad.length;
      row[6] = outputAt;
    }
    spans.push(outputAt);
    outputAt += data.length + (open ? 0 : TAG_LENGTH);
  }
  const status = new Uint8Array(end - start);
  try {
    call(keys, table, input, output, status);
  } finally {
    if (!open) input.fill(0); // the plaintexts
  }
  return { output, spans, status };
}

/**
 * Seals many values in one native call per 1024: `{ key, iv (12 bytes), plaintext, aad? }` →
 * `{ ciphertext, tag }` (views into one new buffer per chunk). Throws on invalid input before
 * encrypting anything.
 */
function sealValues(items) {
  if (!Array.isArray(items)) throw nativeError('ERR_KEYSTRATA_NATIVE_ARGUMENT', 'sealValues needs an array of items.');
  const results = new Array(items.length);
  for (let start = 0; start < items.length; start += CHUNK_VALUES) {
    const end = Math.min(items.length, start + CHUNK_VALUES);
    const { output, spans, status } = runChunk(items, start, end, false, sealBatch);
    for (let i = start; i < end; i++) {
      if (status[i - start] !== 0) throw nativeError('ERR_KEYSTRATA_NATIVE_OPENSSL', `OpenSSL failed to seal item ${i}.`);
      const at = spans[i - start];
      const length = items[i].plaintext.length;
      results[i] = { ciphertext: output.subarray(at, at + length), tag: output.subarray(at + length, at + length + TAG_LENGTH) };
    }
  }
  return results;
}

/**
 * Opens many values in one native call per 1024: `{ key, iv (12 bytes), ciphertext, tag (16 bytes), aad? }`
 * → `{ ok: true, plaintext }` or `{ ok: false }` per item. Every tag is verified before that item's
 * plaintext exists; one bad item fails only itself. Zero-fill the plaintexts when done.
 */
function openValues(items) {
  if (!Array.isArray(items)) throw nativeError('ERR_KEYSTRATA_NATIVE_ARGUMENT', 'openValues needs an array of items.');
  const results = new Array(items.length);
  for (let start = 0; start < items.length; start += CHUNK_VALUES) {
    const end = Math.min(items.length, start + CHUNK_VALUES);
    const { output, spans, status } = runChunk(items, start, end, true, openBatch);
    for (let i = start; i < end; i++) {
      const at = spans[i - start];
      results[i] = status[i - start] === 0 ? { ok: true, plaintext: output.subarray(at, at + items[i].ciphertext.length) } : { ok: false };
    }
  }
  return results;
}

module.exports = {
  available: binding !== undefined,
  loadFailure,
  AeadKey,
  MacKey,
  hmacBatch,
  hmacValues,
  MAC_STRIDE,
  MAC_LENGTH,
  sealBatch,
  openBatch,
  sealValues,
  openValues,
  releaseForTesting,
  IV_LENGTH,
  TAG_LENGTH,
  KEY_LENGTH,
  SEAL_STRIDE,
  OPEN_STRIDE,
  CHUNK_VALUES,
};
