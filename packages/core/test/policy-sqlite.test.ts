import { describePolicies } from './policy-behaviour.js';
import { sqliteStack } from './stacks.js';

describePolicies('SoftHSM2 and SQLite (integration)', sqliteStack);
