import test from 'ava';
import { parseBuildConfig } from '../../shared/pipeline/build-config.js';
import { beginUnit, newBuild, succeedUnit } from '../../shared/pipeline/build-state.js';
import { formatStageSplit, stageSplit } from '../../shared/pipeline/stage-split.js';
import { SINGLE_FILE_UPLOAD, T } from '../helpers/builds.js';

test('stage split: queue wait from the previous stage (or the build) to the first unit, run to the last unit', (t) => {
  const r = newBuild('b', 'm', SINGLE_FILE_UPLOAD, parseBuildConfig({ verify: { shards: 2 } }, 8), T(0));
  const run = (stage: 'convert' | 'quantize', from: number, to: number) => {
    beginUnit(r, stage, 'main', T(from), 1000, stage);
    succeedUnit(r, stage, 'main', { artifacts: {}, summary: {} }, T(to), stage);
  };
  run('convert', 2, 5);
  run('quantize', 6, 16);
  // Two verify shards, started apart, finishing apart: the stage runs from the first start to the last finish.
  const shards = Object.keys(r.stages.verify.units).sort();
  t.is(shards.length, 2);
  beginUnit(r, 'verify', shards[0]!, T(20), 1000, 'v0');
  beginUnit(r, 'verify', shards[1]!, T(23), 1000, 'v1');
  succeedUnit(r, 'verify', shards[0]!, { artifacts: {}, summary: {} }, T(25), 'v0');
  succeedUnit(r, 'verify', shards[1]!, { artifacts: {}, summary: {} }, T(30), 'v1');
  t.deepEqual(stageSplit(r), {
    convert: { queueMs: 2000, runMs: 3000 },
    quantize: { queueMs: 1000, runMs: 10_000 },
    // compile never ran: verify's queue counts from the last stage that finished.
    verify: { queueMs: 4000, runMs: 10_000 },
  });
  t.is(formatStageSplit(stageSplit(r)), 'convert 2.0 + 3.0 s, quantize 1.0 + 10.0 s, verify 4.0 + 10.0 s');
});
