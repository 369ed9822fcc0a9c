// The `vigil` command's entry (bin/vigil.mjs imports it); the commands live in src/cli/, one file per group.
export { main, run } from './cli/index.ts';
