import type { Command } from 'commander';
import { register as build } from './build.js';
import { register as compile } from './compile.js';
import { register as convert } from './convert.js';
import { register as inspect } from './inspect.js';
import { register as latencyTable } from './latency-table.js';
import { register as quantize } from './quantize.js';
import { register as run } from './run.js';
import { register as train } from './train.js';
import { register as upload } from './upload.js';
import { register as verify } from './verify.js';
import { register as watch } from './watch.js';

/** The toolchain's commands and the in-process build, in the order `kiln --help` lists them. */
export const BUILD_COMMANDS: ((program: Command) => void)[] = [
  inspect,
  convert,
  quantize,
  compile,
  run,
  verify,
  latencyTable,
  build,
  train,
];

/** The commands that talk to a deployed (or local) Kiln. */
export const CLOUD_COMMANDS: ((program: Command) => void)[] = [upload, watch];

/**
 * Every command of shared/. `kiln local` (the local stack) belongs to the emulators, which sit above shared/:
 * bin/kiln.js runs main() with emulators/local-stack/local-command.ts's KILN_COMMANDS, which adds it.
 */
export const COMMANDS = [...BUILD_COMMANDS, ...CLOUD_COMMANDS];
