import test from 'ava';
import { KilnError } from '../../shared/common/errors.js';
import { parseBuildConfig, compileTargets } from '../../shared/pipeline/build-config.js';
import {
  beginUnit,
  completeBuild,
  failUnit,
  newBuild,
  succeedUnit,
  unitsOf,
} from '../../shared/pipeline/build-state.js';
import { loadConfig } from '../../shared/pipeline/config.js';
import { EVENT_TYPES, fromPubsubMessage, makeEvent, toPubsubMessage } from '../../shared/pipeline/events.js';
import { buildIdOf, modelIdOf } from '../../shared/pipeline/ids.js';
import { log, setLogSink, type LogEntry } from '../../shared/pipeline/log.js';
import { parseStageMessage, STAGE_MESSAGE_SCHEMA_V1 } from '../../shared/pipeline/messages.js';
import { checkUploadBytes } from '../../shared/pipeline/sniff.js';
import { classifyUpload } from '../../shared/pipeline/uploads.js';
import { SINGLE_FILE_UPLOAD, T } from '../helpers/builds.js';

const input = SINGLE_FILE_UPLOAD;

test('config: defaults, env overrides, and one error naming every bad variable', (t) => {
  const c = loadConfig({});
  t.is(c.buckets.uploads, 'kiln-uploads');
  t.is(c.limits.maxAttempts, 3);
  t.is(loadConfig({ KILN_PUBSUB_PORT: '8085', KILN_MAX_FANOUT: '' }).ports.pubsub, 8085);
  const e = t.throws(() => loadConfig({ KILN_PUBSUB_PORT: 'x', KILN_MAX_ATTEMPTS: '0' }), { instanceOf: KilnError });
  t.regex(e.message, /KILN_PUBSUB_PORT/);
  t.regex(e.message, /KILN_MAX_ATTEMPTS/);
  t.throws(() => loadConfig({ KILN_UPLOADS_BUCKET: 'same', KILN_ARTIFACTS_BUCKET: 'same' }), {
    message: /must differ/,
  });
});

test('ids: buildId depends on bucket, object and generation only', (t) => {
  const a = buildIdOf('b', 'm.tflite', '1');
  t.is(a, buildIdOf('b', 'm.tflite', '1'));
  t.regex(a, /^[0-9a-f]{24}$/);
  t.not(a, buildIdOf('b', 'm.tflite', '2'));
  t.not(a, buildIdOf('c', 'm.tflite', '1'));
  t.is(modelIdOf('mobilenet v1.tflite'), 'mobilenet-v1');
  t.is(modelIdOf('nets/a/kiln.json'), 'nets-a');
  t.is(modelIdOf('x.tar.gz'), 'x');
  t.is(modelIdOf('nets/resnet18.onnx'), 'nets-resnet18');
});

test('uploads: single files at the top level, folders on kiln.json, artifacts never', (t) => {
  t.like(classifyUpload('m.h5', undefined), { kind: 'single-file', format: 'keras-h5', configObject: 'm.kiln.json' });
  t.like(classifyUpload('m.TAR.GZ', undefined), { kind: 'single-file', format: 'tar.gz' });
  t.like(classifyUpload('saved/kiln.json', undefined), { kind: 'folder', prefix: 'saved/', modelId: 'saved' });
  t.is(classifyUpload('saved/model.tflite', undefined).kind, 'ignored');
  t.is(classifyUpload('m.tflite', { 'kiln-artifact': 'abc' }).kind, 'ignored');
  t.is(classifyUpload('notes.txt', undefined).kind, 'ignored');
  t.is(classifyUpload('m.kiln.json', undefined).kind, 'ignored');
});

test('build config: defaults, target names, duplicates and fan-out limit', (t) => {
  const d = parseBuildConfig(undefined, 8);
  t.deepEqual(
    compileTargets(d).map((x) => x.name),
    ['default'],
  );
  t.is(d.verify.shards, 1);
  const c = parseBuildConfig(
    { compile: { targets: [{ minRuntimeVersion: 13 }, { numSegments: 2 }, { multipleSubgraphs: true }] } },
    8,
  );
  t.deepEqual(
    compileTargets(c).map((x) => x.name),
    ['m13', 'n2', 'a'],
  );
  t.throws(() => parseBuildConfig({ compile: { targets: [{}, {}] } }, 8), { message: /named "default"/ });
  t.throws(() => parseBuildConfig({ verify: { shards: 9 } }, 8), { message: /limit is 8/ });
  t.throws(() => parseBuildConfig({ compile: { targets: [{ numSegments: 'x' }] } }, 8), {
    message: /compile\.targets\.0\.numSegments/,
  });
});

test('messages: a valid message parses; a foreign one is rejected with the reason', (t) => {
  const msg = {
    schema: STAGE_MESSAGE_SCHEMA_V1,
    buildId: 'a'.repeat(24),
    modelId: 'm',
    stage: 'compile',
    unit: { key: 'm13', index: 0, count: 3, params: {} },
  };
  const ok = parseStageMessage(JSON.stringify(msg));
  t.true(ok.ok);
  const bad = parseStageMessage(JSON.stringify({ ...msg, stage: 'bake' }));
  t.false(bad.ok);
  t.false(parseStageMessage('{').ok);
});

test('events: versioned types, deterministic ids, Pub/Sub binary round trip', (t) => {
  const e = makeEvent(
    'failed',
    'kiln-local',
    {
      buildId: 'b1',
      modelId: 'm',
      status: 'failed',
      input,
      stage: 'convert',
      error: { code: 'E_TFLITE_IDENTIFIER', message: 'bad', retryable: false },
      artifacts: {},
    },
    T(0),
  );
  t.is(e.type, 'dev.kiln.build.v1.failed');
  t.is(e.id, 'b1/failed');
  const m = toPubsubMessage(e);
  t.is(m.attributes['ce-type'], EVENT_TYPES.failed);
  t.is(m.attributes['ce-buildid'], 'b1');
  t.deepEqual(fromPubsubMessage(m.data, m.attributes), e);
  t.throws(() => fromPubsubMessage(m.data, { ...m.attributes, 'ce-type': 'other' }));
});

test('log catalogue: Cloud Logging fields with build and stage labels', (t) => {
  const lines: LogEntry[] = [];
  const prev = setLogSink((l) => lines.push(l));
  try {
    log.unitFailed({ buildId: 'b1', modelId: 'm' }, 'compile', 'm13', 'E_X', 'boom');
  } finally {
    setLogSink(prev);
  }
  t.is(lines[0]!.severity, 'ERROR');
  t.is(lines[0]!.message, 'compile/m13 failed: boom');
  t.deepEqual(lines[0]!['logging.googleapis.com/labels'], { build: 'b1', model: 'm', stage: 'compile', unit: 'm13' });
});

test('sniff: wrong magic is a readable bad-input error', (t) => {
  const good = new Uint8Array([0, 0, 0, 0, 0x54, 0x46, 0x4c, 0x33]);
  t.notThrows(() => checkUploadBytes('m.tflite', 'tflite', good));
  const e = t.throws(() => checkUploadBytes('m.tflite', 'tflite', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), {
    instanceOf: KilnError,
  });
  t.is(e.kind, 'bad-input');
  t.regex(e.message, /not a TFLite flatbuffer/);
  t.throws(() => checkUploadBytes('m.h5', 'keras-h5', new Uint8Array()), { message: /empty/ });
});

test('build state: fan-in completes a stage exactly once; finish completes the build once', (t) => {
  const config = parseBuildConfig(
    { compile: { targets: [{ minRuntimeVersion: 13 }, { minRuntimeVersion: 14 }, { numSegments: 2 }] } },
    8,
  );
  const r = newBuild('b1', 'm', input, config, T(0));
  const units = unitsOf(r, 'compile');
  t.deepEqual(
    units.map((u) => [u.key, u.index, u.count]),
    [
      ['m13', 0, 3],
      ['m14', 1, 3],
      ['n2', 2, 3],
    ],
  );
  const completions: boolean[] = [];
  for (const [i, u] of units.entries()) {
    t.like(beginUnit(r, 'compile', u.key, T(i), 60_000, `run-${i}`), { action: 'run', attempt: 1 });
    // duplicate delivery while running is skipped
    t.is(beginUnit(r, 'compile', u.key, T(i), 60_000, `dup-${i}`).action, 'skip');
  }
  for (const [i, u] of units.entries()) {
    completions.push(
      succeedUnit(
        r,
        'compile',
        u.key,
        { artifacts: { [`${u.key}/x`]: `gs://a/${u.key}` }, summary: { i } },
        T(10 + i),
        `run-${i}`,
      ).stageCompleted,
    );
    // a duplicate success report changes nothing
    completions.push(
      succeedUnit(r, 'compile', u.key, { artifacts: {}, summary: {} }, T(20), `dup-${i}`).stageCompleted,
    );
  }
  t.deepEqual(completions, [false, false, false, false, true, false]);
  t.is(r.stages.compile.status, 'succeeded');
  t.is(r.stages.compile.durationMs, 12_000);
  t.deepEqual(r.summary['compile'], { m13: { i: 0 }, m14: { i: 1 }, n2: { i: 2 } });
  t.is(Object.keys(r.artifacts).length, 3);
  t.true(completeBuild(r, {}, T(30)));
  t.false(completeBuild(r, {}, T(31)));
  t.is(beginUnit(r, 'verify', 'shard-0', T(32), 60_000, 'late').action, 'skip');
});

test('build state: retryable errors retry up to the limit; permanent ones fail the build once', (t) => {
  const r = newBuild('b1', 'm', input, parseBuildConfig({}, 8), T(0));
  const transient = { code: 'E_TRANSIENT', message: 'unavailable', retryable: true };
  beginUnit(r, 'convert', 'main', T(1), 60_000, 'd1');
  t.is(failUnit(r, 'convert', 'main', transient, 2, T(2), 'd').outcome, 'retry');
  t.is(r.stages.convert.units['main']!.status, 'pending');
  beginUnit(r, 'convert', 'main', T(3), 60_000, 'd3');
  t.is(r.stages.convert.units['main']!.attempts, 2);
  t.is(failUnit(r, 'convert', 'main', transient, 2, T(4), 'd').outcome, 'build-failed');
  t.is(r.status, 'failed');
  t.like(r.error, { stage: 'convert', code: 'E_TRANSIENT' });
  t.is(failUnit(r, 'convert', 'main', transient, 2, T(5), 'other').outcome, 'ignored');
  const p = newBuild('b2', 'm', input, parseBuildConfig({}, 8), T(0));
  beginUnit(p, 'quantize', 'main', T(1), 60_000, 'd1');
  t.is(
    failUnit(p, 'quantize', 'main', { code: 'E_SHAPE', message: 'bad', retryable: false }, 5, T(2), 'd').outcome,
    'build-failed',
  );
});
