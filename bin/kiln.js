#!/usr/bin/env node
// Entry point of the `kiln` CLI: registers tsx so the TypeScript sources run directly, then hands over to main()
// with every command, `kiln local` included.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../shared/cli/main.ts');
const { KILN_COMMANDS } = await import('../emulators/local-stack/local-command.ts');
process.exitCode = await main(process.argv.slice(2), KILN_COMMANDS);
