#!/usr/bin/env node
// Entry point of the `kiln` CLI: registers tsx so the TypeScript sources run directly, then hands over to main().
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../shared/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
