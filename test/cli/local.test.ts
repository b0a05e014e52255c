import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installedBundle } from '../../emulators/local-stack/bundle-cache.js';
import { kiln } from '../helpers/cli.js';

/** `kiln local --once` on the real emulators, as a user runs it (its own stack, started and stopped by the command). */
const dir = mkdtempSync(join(tmpdir(), 'kiln-local-'));

// The command serves the functions from the installed bundle (.kiln/bundle): build it here, outside the command's
// time limit, when the cache does not have it yet (a fresh checkout).
test.before(async () => {
  await installedBundle();
});

test('kiln local --once --json prints the failed build of a model the pipeline rejects and exits 2', (t) => {
  const malformed = join(dir, 'broken.tflite');
  const bad = new Uint8Array(64).fill(0xee);
  bad.set([0x54, 0x46, 0x4c, 0x33], 4); // passes the first-bytes check; convert finds it is no flatbuffer
  writeFileSync(malformed, bad);
  const r = kiln(['local', '--once', malformed, '--json', '--logs', join(dir, 'pipeline.log')]);
  t.is(r.status, 2, r.stderr);
  const result = JSON.parse(r.stdout) as {
    buildId: string;
    status: string;
    artifacts: Record<string, string>;
    summary: Record<string, unknown>;
    error: { stage: string; code: string; message: string; retryable: boolean };
  };
  t.deepEqual(Object.keys(result).sort(), ['artifacts', 'buildId', 'error', 'status', 'summary']);
  t.regex(result.buildId, /^[0-9a-f]{24}$/);
  t.is(result.status, 'failed');
  t.is(result.error.stage, 'convert');
  t.regex(result.error.code, /^E_TFLITE_/);
  t.false(result.error.retryable);
  t.deepEqual(result.artifacts, {});
  t.regex(r.stderr, /failed in convert/);
});
