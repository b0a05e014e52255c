/**
 * `npm start` — Kiln's main job: the local serverless pipeline with a sample model built through it
 * (emulators/local-stack/demo.ts). `npm start -- --once` exits after the sample build (exit 0 when it succeeded).
 */
import { isKilnError } from '../shared/common/errors.js';
import { exitCodeOfResult } from '../shared/pipeline/build-result.js';
import { runDemo } from '../emulators/local-stack/demo.js';

const once = process.argv.includes('--once');
try {
  const { sample } = await runDemo({ once });
  process.exitCode = once ? exitCodeOfResult(sample) : 0;
} catch (err) {
  process.stderr.write(`kiln: ${isKilnError(err) ? err.oneLine() : String((err as Error)?.stack ?? err)}\n`);
  process.exitCode = isKilnError(err) && err.kind === 'bad-input' ? 2 : 1;
}
