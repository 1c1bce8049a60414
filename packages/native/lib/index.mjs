// ESM entry: the CommonJS module re-exported, so both formats share one loaded addon.
import native from './index.cjs';

export const { available, loadFailure, AeadKey, sealBatch, openBatch, sealValues, openValues, releaseForTesting, IV_LENGTH, TAG_LENGTH, KEY_LENGTH, SEAL_STRIDE, OPEN_STRIDE, CHUNK_VALUES } = native;
