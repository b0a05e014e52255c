import type { Command } from 'commander';
import { register as compile } from './compile.js';
import { register as inspect } from './inspect.js';

/** Every `kiln` command, in the order `kiln --help` lists them. */
export const COMMANDS: ((program: Command) => void)[] = [inspect, compile];
