export { describeAdapterConformance } from './suite.js';
export type { ConformanceContext, ConformanceHarness, ConformancePatient } from './harness.js';
