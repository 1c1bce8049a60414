import { describeHierarchy } from './hierarchy-behaviour.js';
import { postgresStack } from './stacks.js';

describeHierarchy('SoftHSM2 and PostgreSQL (integration)', postgresStack);
