import test from 'ava';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../../emulators/local-stack/demo.js';
import { STAGE_CORES } from '../../shared/pipeline/cores/index.js';

/** The `npm start` flow once (scripts/demo.ts --once): stack up, sample model built through it, summary, stack down. */
test('npm start builds the bundled sample model through the local stack and says where to look', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-demo-'));
  let text = '';
  const { sample } = await runDemo({ once: true, dir, write: (s) => (text += s) });
  t.log(text);
  t.regex(sample.buildId, /^[0-9a-f]{24}$/);
  t.is(sample.modelId, 'kiln-sample-stripes');
  for (const name of ['model.int8.tflite', 'default/compile-report.json', 'runtime13/compile-report.json'])
    t.regex(sample.artifacts[name] ?? '', new RegExp(`^gs://kiln-artifacts/kiln-sample-stripes/${sample.buildId}/`));
  const compile = sample.summary['compile'] as Record<string, { opsOnEdgeTpu: number; totalOps: number }>;
  t.is(compile['default']!.opsOnEdgeTpu, compile['default']!.totalOps);
  t.regex(text, new RegExp(`models/kiln-sample-stripes/builds/${sample.buildId}`));
  t.regex(text, /results page +http:\/\/127\.0\.0\.1:\d+/);
  t.regex(text, /export STORAGE_EMULATOR_HOST=http:\/\/127\.0\.0\.1:\d+ PUBSUB_EMULATOR_HOST=127\.0\.0\.1:\d+/);
  if (STAGE_CORES.verify) {
    t.is(sample.status, 'succeeded', JSON.stringify(sample.error));
    t.truthy(sample.artifacts['report.html']);
  } else {
    t.is(sample.error?.stage, 'verify');
  }
});
