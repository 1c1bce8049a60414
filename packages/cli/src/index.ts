export { main, COMMANDS, type CliIo } from './main.js';
export { loadConfig, writeConfig, CONFIG_FILE, type KeystrataConfig, type ResolvedConfig } from './config.js';
export { openHierarchy, openKeyStore, openRootKey } from './open.js';
export { openKeystrata, type OpenKeystrataOptions } from './open-keystrata.js';
