#!/usr/bin/env node
// Prisma runs `provider = "keystrata-prisma"` through the shell; JSON-RPC travels on stdin/stderr.
// generator-helper is CommonJS without named ESM exports on Node 20: use its default export.
import helper from '@prisma/generator-helper';
import { keystrataGenerator } from './handler.js';

helper.generatorHandler(keystrataGenerator);
