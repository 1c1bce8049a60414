// The ESM entry re-exports the CommonJS one (lib/index.mjs), so its types are the same declarations.
export * from './index.cjs';
