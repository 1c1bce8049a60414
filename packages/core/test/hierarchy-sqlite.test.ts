import { describeHierarchy } from './hierarchy-behaviour.js';
import { sqliteStack } from './stacks.js';

describeHierarchy('SoftHSM2 and SQLite (integration)', sqliteStack);
// Issue 16: the same behaviour, every tamper test included, on the node:crypto fallback.
describeHierarchy('SoftHSM2 and SQLite (integration)', sqliteStack, 'node:crypto');
