import { describePolicies } from './policy-behaviour.js';
import { postgresStack } from './stacks.js';

describePolicies('SoftHSM2 and PostgreSQL (integration)', postgresStack);
