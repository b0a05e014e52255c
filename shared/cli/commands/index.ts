import type { Command } from 'commander';
import { register as build } from './build.js';
import { register as compile } from './compile.js';
import { register as convert } from './convert.js';
import { register as inspect } from './inspect.js';
import { register as latencyTable } from './latency-table.js';
import { register as local } from './local.js';
import { register as quantize } from './quantize.js';
import { register as run } from './run.js';
import { register as train } from './train.js';
import { register as upload } from './upload.js';
import { register as verify } from './verify.js';
import { register as watch } from './watch.js';

/** Every `kiln` command, in the order `kiln --help` lists them. */
export const COMMANDS: ((program: Command) => void)[] = [
  inspect,
  convert,
  quantize,
  compile,
  run,
  verify,
  latencyTable,
  build,
  train,
  local,
  upload,
  watch,
];
