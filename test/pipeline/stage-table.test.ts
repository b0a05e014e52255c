import test from 'ava';
import { TrainConfigSchema } from '../../shared/toolchain/train/config.js';
import { readdirSync, readFileSync } from 'node:fs';
import * as ARTIFACTS from '../../shared/pipeline/artifacts.js';
import { artifactMatches, UPLOAD_PREFIX } from '../../shared/pipeline/artifacts.js';
import { buildInProcess } from '../../shared/pipeline/build-in-process.js';
import { newBuild } from '../../shared/pipeline/build-state.js';
import type { StageCores } from '../../shared/pipeline/core.js';
import type { LocalModel } from '../../shared/pipeline/local-model.js';
import type { UploadRef } from '../../shared/pipeline/messages.js';
import { FUNCTION_SETTINGS } from '../../shared/pipeline/stage-settings.js';
import {
  firstStage,
  nextStage,
  previousStage,
  routeOf,
  stageSpec,
  STAGE_NAMES,
  STAGES,
  stagesOf,
  type Route,
  type StageName,
} from '../../shared/pipeline/stages.js';
import { PIPELINE_DOC, withStageSection } from '../../scripts/gen-pipeline-doc.js';

const source = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
/** Every string literal (quoted or template) in TypeScript source, comments left out. */
function stringLiterals(ts: string): string[] {
  const code = ts.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
  return [...code.matchAll(/'([^'\n]*)'|"([^"\n]*)"|`([^`]*)`/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

test('the two runners name no stage: what differs between stages comes from the stage table', (t) => {
  for (const file of [
    'shared/pipeline/run-unit.ts',
    'shared/pipeline/build-in-process.ts',
    'shared/pipeline/unit.ts',
  ]) {
    const literals = stringLiterals(source(file));
    const named = literals.filter((l) => STAGE_NAMES.some((s) => l === s || new RegExp(`\\b${s}\\b`).test(l)));
    t.deepEqual(named, [], `${file} names a stage`);
    t.notRegex(source(file), /\.(convert|quantize|compile|verify|finish)\b/, `${file} reaches a stage by property`);
  }
});

test('the cores use the artifact constants: no artifact name as a string literal in shared/pipeline/cores', (t) => {
  const names: string[] = Object.values(ARTIFACTS).filter((v) => typeof v === 'string');
  const dir = new URL('../../shared/pipeline/cores/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  t.true(files.length >= 4);
  for (const file of files) {
    const literals = stringLiterals(readFileSync(new URL(file, dir), 'utf8'));
    const bad = literals.filter(
      (l) => names.includes(l) || names.includes(`${l}/`) || /\.(tflite|json|html|log|txt|csv)$/.test(l),
    );
    t.deepEqual(bad, [], `cores/${file}`);
  }
});

test('every stage reads only what the upload or an earlier stage writes, on a route that runs it', (t) => {
  // A read may be optional on one route (verify reads training.json, which only a dataset build has).
  const before = (route: (typeof STAGES)[number]['routes'][number], name: string) => {
    const names = stagesOf(route).map((s) => s.name);
    return [
      UPLOAD_PREFIX,
      ...stagesOf(route)
        .slice(0, names.indexOf(name as StageName))
        .flatMap((s) => s.writes),
    ];
  };
  for (const spec of STAGES)
    for (const r of spec.reads)
      t.true(
        spec.routes.some((route) => before(route, spec.name).some((w) => w === r || artifactMatches(r, w))),
        `${spec.name} reads ${r}, which nothing before it writes`,
      );
  // What a stage needs on every route: the model from the stage before quantize.
  for (const route of new Set(STAGES.flatMap((s) => s.routes)))
    t.true(before(route, 'quantize').includes(ARTIFACTS.FLOAT_MODEL), route);
});

test('each stage has its function settings from its row, and one route starts with the first stage', (t) => {
  for (const spec of STAGES) t.is(FUNCTION_SETTINGS[spec.name], spec.settings);
  t.deepEqual(
    STAGES.map((s) => s.name),
    [...STAGE_NAMES],
  );
  t.is(firstStage('model'), 'convert');
  t.is(nextStage('verify', 'model'), 'finish');
  t.is(nextStage('finish', 'model'), undefined);
  t.is(previousStage('convert', 'model'), undefined);
  t.is(routeOf({ input: { kind: 'folder' } }), 'model');
  t.is(routeOf({ input: { kind: 'folder' }, config: { train: {} } }), 'dataset');
  t.is(routeOf({ input: { kind: 'single-file' }, config: { train: {} } }), 'model');
  t.is(firstStage('dataset'), 'train');
  t.is(nextStage('train', 'dataset'), 'quantize');
  t.is(previousStage('quantize', 'dataset'), 'train');
  t.is(previousStage('quantize', 'model'), 'convert');
  const last = stagesOf('model').at(-1)!;
  t.is(last.onComplete, 'complete-build');
  t.true(
    stagesOf('model')
      .slice(0, -1)
      .every((s) => s.onComplete === 'next-stage'),
  );
});

test('a stage only some builds take is one row: the train stage runs on dataset builds only', (t) => {
  const names = (route: Route) => stagesOf(route).map((s) => s.name);
  t.deepEqual(names('model'), ['convert', 'quantize', 'compile', 'verify', 'finish']);
  t.deepEqual(names('dataset'), ['train', 'quantize', 'compile', 'verify', 'finish']);
  // The train row writes what convert writes (so quantize/verify read the same names), plus the training record.
  const train = stageSpec('train');
  t.deepEqual(train.reads, [UPLOAD_PREFIX]);
  for (const w of stageSpec('convert').writes) t.true(train.writes.includes(w), w);
  t.true(train.writes.includes(ARTIFACTS.TRAINING_REPORT));
  t.true(stageSpec('verify').reads.includes(ARTIFACTS.TRAINING_REPORT));
});

test('a build record lays out the stages of its route', (t) => {
  const input: UploadRef = {
    bucket: 'b',
    object: 'm.tflite',
    generation: '1',
    kind: 'single-file',
    uri: 'gs://b/m.tflite',
    format: 'tflite',
  };
  const config = { compile: { targets: [{}] }, verify: { shards: 1 }, quantize: {} };
  const record = newBuild('x'.repeat(24), 'm', input, config, 'now');
  t.deepEqual(Object.keys(record.stages), ['convert', 'quantize', 'compile', 'verify', 'finish']);
  t.deepEqual(
    Object.keys(record.stages),
    stagesOf(routeOf({ input })).map((s) => s.name),
  );
  const dataset = newBuild(
    'y'.repeat(24),
    'd',
    { ...input, object: 'd/kiln.json', kind: 'folder', prefix: 'd/', uri: 'gs://b/d/kiln.json' },
    { ...config, train: TrainConfigSchema.parse({}) },
    'now',
  );
  t.deepEqual(Object.keys(dataset.stages), ['train', 'quantize', 'compile', 'verify', 'finish']);
});

test('a core is given exactly what its row reads, and writes only what its row declares', async (t) => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const seen: Record<string, string[]> = {};
  // Each core writes every artifact its row declares (data folders as one file) and records what it was given.
  const core =
    (name: StageName): NonNullable<StageCores[StageName]> =>
    async ({ artifacts }) => {
      seen[name] = [...artifacts.keys()].sort();
      const out: Record<string, Uint8Array> = {};
      for (const w of stageSpec(name).writes) {
        if (w === ARTIFACTS.DATA_MANIFEST) continue;
        out[w.endsWith('/') ? `${w}a.png` : w.replace('<i>', '0')] = enc(w);
      }
      return { artifacts: out, summary: {} };
    };
  const cores = Object.fromEntries(STAGE_NAMES.map((s) => [s, core(s)])) as StageCores;
  const model: LocalModel = {
    kind: 'single-file',
    name: 'm.tflite',
    format: 'tflite',
    files: new Map([['m.tflite', enc('m')]]),
    configText: JSON.stringify({ compile: { targets: [{ minRuntimeVersion: 13 }, { numSegments: 2 }] } }),
  };
  const { record, artifacts } = await buildInProcess(model, { cores, maxFanout: 8 });
  t.is(record.status, 'succeeded');
  t.deepEqual(seen['convert'], ['upload/m.tflite']);
  t.deepEqual(seen['quantize'], ['calibration/a.png', 'model.float.tflite']);
  t.deepEqual(seen['compile'], ['model.int8.tflite']);
  t.deepEqual(seen['verify'], [
    'calibration/a.png',
    'm13/compile-report.json',
    'model.float.tflite',
    'model.int8.tflite',
    'n2/compile-report.json',
    'validation/a.png',
  ]);
  t.false('finish' in seen, 'a bookkeeping stage runs no core');
  for (const spec of stagesOf('model'))
    for (const name of Object.values(record.stages[spec.name].units).flatMap((u) => u.artifacts ?? []))
      t.true(
        spec.writes.some((w) => artifactMatches(w, name)),
        `${spec.name} wrote ${name}, which its row does not declare`,
      );
  t.true(artifacts.has('n2/segment-0.tflite'));
});

test('docs/pipeline.md: the stage section is generated from the stage table (npm run gen:pipeline-doc)', (t) => {
  const doc = readFileSync(PIPELINE_DOC, 'utf8');
  t.is(doc, withStageSection(doc), 'run npm run gen:pipeline-doc');
  for (const spec of STAGES) t.true(doc.includes(`| \`${spec.name}\` |`));
});
