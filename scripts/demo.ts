/**
 * `npm start` until the local pipeline lands: Kiln builds a small CNN with its own IR builder, writes it as .tflite,
 * checks that the real TFLite runtime loads and runs it, and inspects it with `kiln inspect`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../shared/cli/main.js';
import { TfliteRuntime } from '../shared/oracle/tflite-runtime.js';
import { tinyCnnTflite } from '../shared/samples/tiny-cnn.js';

const out = join(process.cwd(), '.kiln', 'demo');
mkdirSync(out, { recursive: true });
const file = join(out, 'tiny_cnn.tflite');
const bytes = tinyCnnTflite();
writeFileSync(file, bytes);
process.stdout.write(`Kiln built ${file} (${bytes.length} bytes) with its IR builder.\n`);

const rt = await TfliteRuntime.load(bytes);
const [probs] = await rt.run([new Uint8Array(4 * 6 * 6 * 2)]);
rt.close();
process.stdout.write(
  `The TensorFlow Lite runtime loads and runs it: output ${probs!.dtype}[${probs!.shape.join(',')}].\n\n`,
);
process.exitCode = await main(['inspect', file]);
