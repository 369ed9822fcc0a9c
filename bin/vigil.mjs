#!/usr/bin/env node
// The `vigil` command. Vigil is TypeScript run through tsx's loader, so there
// is no build step between a checkout and a running service.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../src/main.ts');
await run(process.argv.slice(2));
