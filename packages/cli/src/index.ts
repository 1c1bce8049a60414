export { main, COMMANDS } from './main.js';
export { loadConfig, writeConfig, CONFIG_FILE, type KeystrataConfig, type ResolvedConfig } from './config.js';
export { openHierarchy, openKeyStore } from './open.js';
