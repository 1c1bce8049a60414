// ESM entry: the CommonJS module re-exported, so both formats share one loaded addon.
import native from './index.cjs';

export const {
  available,
  loadFailure,
  AeadKey,
  MacKey,
  sealBatch,
  openBatch,
  hmacBatch,
  sealValues,
  openValues,
  hmacValues,
  releaseForTesting,
  IV_LENGTH,
  TAG_LENGTH,
  KEY_LENGTH,
  SEAL_STRIDE,
  OPEN_STRIDE,
  MAC_STRIDE,
  MAC_LENGTH,
  CHUNK_VALUES,
} = native;
