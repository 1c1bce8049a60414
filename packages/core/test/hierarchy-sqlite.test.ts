import { describeHierarchy } from './hierarchy-behaviour.js';
import { sqliteStack } from './stacks.js';

describeHierarchy('SoftHSM2 and SQLite (integration)', sqliteStack);
