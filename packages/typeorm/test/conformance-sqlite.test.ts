import { describeAdapterConformance } from '@keystrata/testing/conformance';
import { typeormHarness } from './support/conformance.js';

describeAdapterConformance(typeormHarness('sqlite'));
