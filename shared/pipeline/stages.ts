import {
  CALIBRATION_DATA,
  CALIBRATION_STATS,
  COMPILE_LOG,
  COMPILE_REPORT,
  dataFolder,
  DATA_MANIFEST,
  EDGETPU_MODEL,
  FLOAT_MODEL,
  INT8_MODEL,
  QUANTIZE_REPORT,
  REPORT_HTML,
  REPORT_JSON,
  SEGMENT_MODELS,
  TRAINING_REPORT,
  UPLOAD_PREFIX,
  VALIDATION_DATA,
  artifactMatches,
} from './artifacts.js';
import { compileTargets, type BuildConfig } from './build-config.js';
import type { StageCore } from './core.js';
import type { UploadRef } from './messages.js';
import type { FunctionSetting } from './stage-settings.js';

/**
 * The stage table: the pipeline's data-flow contract, as data. Each row says what the stage reads and writes (artifact
 * names from artifacts.ts), which core does its work, how many units it fans out to, which builds run it (its routes),
 * what its completion does, and where its function runs (stage-settings.ts reads those rows). Each stage is one Cloud
 * Function fed by one Pub/Sub topic; a stage completes when all its units have succeeded (fan-in), and then exactly
 * one delivery publishes what follows (build-state.ts). The runners (run-unit.ts for the functions, build-in-process.ts
 * for `kiln build`, both through unit.ts) read everything that differs between stages from here.
 *
 * Adding a stage is one row here (plus its core and its function in functions/). A stage that only some builds take
 * names their routes: the upload decides the build's route (`ROUTE_RULES`), the route decides its stages.
 */
export const STAGE_NAMES = ['convert', 'train', 'quantize', 'compile', 'verify', 'finish'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/**
 * What a build makes, decided by its upload: `model`, a trained model to convert and compile; `dataset`, a labelled
 * image set to train a classifier from first (shared/train), then quantize, compile and verify on its test split.
 */
export const ROUTES = ['model', 'dataset'] as const;
export type Route = (typeof ROUTES)[number];

/** What a route rule looks at: the upload's kind and its parsed kiln.json. */
export interface RouteSubject {
  input: Pick<UploadRef, 'kind'>;
  config?: { train?: unknown } | undefined;
}

/**
 * How an upload picks its route (ingest.ts classifies the upload and parses its kiln.json; the build's first stage
 * follows from the route): the first rule that matches, in order.
 */
export const ROUTE_RULES: readonly { route: Route; when: string; matches: (b: RouteSubject) => boolean }[] = [
  {
    route: 'dataset',
    when: 'a folder whose kiln.json has a `train` block',
    matches: (b) => b.input.kind === 'folder' && b.config?.train !== undefined,
  },
  { route: 'model', when: 'any other upload (a model file, an archive, a folder with a model)', matches: () => true },
];

export interface UnitSpec {
  /** Stable key of the unit within its stage (a Firestore map key and an artifact folder when the stage fans out). */
  key: string;
  index: number;
  count: number;
  /** Parameters for the stage core, e.g. a compile target. */
  params: Record<string, unknown>;
}

/** The platform settings of a stage's function (stage-settings.ts derives leases, ack deadlines and retries). */
export type StageSettings = FunctionSetting;

export interface StageSpec {
  name: StageName;
  /** What the stage does, for docs and logs. */
  title: string;
  /** The builds that run this stage. */
  routes: readonly Route[];
  /**
   * What the core is given: `upload/` (the upload's files, `upload/<path>`), or artifact names of earlier stages (a
   * name also matches the same name under a unit's folder; `calibration/` matches every file of that data folder).
   */
  reads: readonly string[];
  /** What the core writes (under `<unit key>/` when the stage fans out); data folders it passes on end in `/`. */
  writes: readonly string[];
  /** Loads the stage's core; null for a stage that is pipeline bookkeeping only (no artifacts, no summary). */
  core: (() => Promise<StageCore>) | null;
  /** Fan-out: the units of the stage for a build config, each one message. */
  units: (config: BuildConfig) => UnitSpec[];
  /** How the stage fans out, in words (docs). */
  fanOut: string;
  /**
   * What the delivery that completes the stage does after publishing `stage.succeeded`: publish the next stage's
   * messages (`next-stage`), or mark the build succeeded and publish `completed` (`complete-build`, the last stage).
   */
  onComplete: 'next-stage' | 'complete-build';
  settings: StageSettings;
}

const single = (): UnitSpec[] => [{ key: 'main', index: 0, count: 1, params: {} }];

/** The rows, in pipeline order. */
export const STAGES: readonly StageSpec[] = [
  {
    name: 'convert',
    title: 'source model → float .tflite; the upload’s data folders travel on as artifacts',
    routes: ['model'],
    reads: [UPLOAD_PREFIX],
    writes: [FLOAT_MODEL, dataFolder(CALIBRATION_DATA), dataFolder(VALIDATION_DATA), DATA_MANIFEST],
    core: async () => (await import('./cores/convert.js')).convertCore,
    units: single,
    fanOut: 'one unit',
    onComplete: 'next-stage',
    settings: {
      home: 'http-service',
      memory: '4Gi',
      cpu: 2,
      maxInstances: 5,
      timeoutS: 1800,
      deadlineS: 1500,
      remedy: 'upload a smaller model, or cut it with --inputs/--outputs before uploading',
    },
  },
  {
    name: 'train',
    title:
      'labelled image set → trained classifier .tflite (float, or integer for an integer base); its training images as calibration data, its test split as labelled validation data',
    routes: ['dataset'],
    reads: [UPLOAD_PREFIX],
    writes: [FLOAT_MODEL, dataFolder(CALIBRATION_DATA), dataFolder(VALIDATION_DATA), DATA_MANIFEST, TRAINING_REPORT],
    core: async () => (await import('./cores/train.js')).trainCore,
    units: single,
    fanOut: 'one unit',
    onComplete: 'next-stage',
    settings: {
      home: 'http-service',
      memory: '8Gi',
      cpu: 4,
      maxInstances: 5,
      timeoutS: 3600,
      deadlineS: 3300,
      remedy: 'train on fewer images or for fewer epochs (train.epochs, train.timeBudgetSeconds in kiln.json)',
    },
  },
  {
    name: 'quantize',
    title: 'calibrate and quantize to int8 (an integer model passes as is)',
    routes: ['model', 'dataset'],
    reads: [FLOAT_MODEL, dataFolder(CALIBRATION_DATA)],
    writes: [INT8_MODEL, QUANTIZE_REPORT, CALIBRATION_STATS],
    core: async () => (await import('./cores/quantize.js')).quantizeCore,
    units: single,
    fanOut: 'one unit',
    onComplete: 'next-stage',
    settings: {
      home: 'http-service',
      memory: '8Gi',
      cpu: 4,
      maxInstances: 5,
      timeoutS: 3600,
      deadlineS: 3300,
      remedy: 'use fewer calibration samples (quantize.samples in kiln.json) or a smaller model',
    },
  },
  {
    name: 'compile',
    title: 'compile for the Edge TPU',
    routes: ['model', 'dataset'],
    reads: [INT8_MODEL],
    writes: [COMPILE_REPORT, COMPILE_LOG, EDGETPU_MODEL, SEGMENT_MODELS],
    core: async () => (await import('./cores/compile.js')).compileCore,
    units: (config) => {
      const targets = compileTargets(config);
      return targets.map((t, index) => ({ key: t.name, index, count: targets.length, params: { target: t } }));
    },
    fanOut: 'one unit per compile target (`compile.targets`); artifacts under `<target>/` when more than one',
    onComplete: 'next-stage',
    settings: {
      home: 'http-service',
      memory: '2Gi',
      cpu: 1,
      maxInstances: 8,
      timeoutS: 1800,
      deadlineS: 1500,
      remedy: 'compile fewer models together, or fewer segments (compile.targets in kiln.json)',
    },
  },
  {
    name: 'verify',
    title: 'accuracy and latency, float vs int8; for a trained model, the training block (int8 on the test split)',
    routes: ['model', 'dataset'],
    reads: [
      FLOAT_MODEL,
      INT8_MODEL,
      COMPILE_REPORT,
      TRAINING_REPORT,
      dataFolder(VALIDATION_DATA),
      dataFolder(CALIBRATION_DATA),
    ],
    writes: [REPORT_JSON, REPORT_HTML],
    core: async () => (await import('./cores/verify.js')).verifyCore,
    units: (config) => {
      const count = config.verify.shards;
      return Array.from({ length: count }, (_, index) => ({
        key: `shard-${index}`,
        index,
        count,
        params: { shard: index, shards: count },
      }));
    },
    fanOut: 'one unit per shard (`verify.shards`); artifacts under `shard-<i>/` when more than one',
    onComplete: 'next-stage',
    settings: {
      home: 'http-service',
      memory: '4Gi',
      cpu: 2,
      maxInstances: 8,
      timeoutS: 3600,
      deadlineS: 3300,
      remedy: 'use fewer validation samples (verify.maxSamples) or more shards (verify.shards in kiln.json)',
    },
  },
  {
    name: 'finish',
    title: 'mark the build succeeded and publish the completion event',
    routes: ['model', 'dataset'],
    reads: [],
    writes: [],
    core: null,
    units: single,
    fanOut: 'one unit',
    onComplete: 'complete-build',
    settings: {
      home: 'http-service',
      memory: '512Mi',
      cpu: 1,
      maxInstances: 5,
      timeoutS: 300,
      deadlineS: 120,
      remedy: 'retry the build',
    },
  },
];

export function stageSpec(name: StageName, table: readonly StageSpec[] = STAGES): StageSpec {
  const spec = table.find((s) => s.name === name);
  if (!spec) throw new Error(`unknown stage ${name}`);
  return spec;
}

/** The route of a build, from its upload and its kiln.json (ROUTE_RULES; the last rule matches every upload). */
export function routeOf(build: RouteSubject): Route {
  return ROUTE_RULES.find((r) => r.matches(build))?.route ?? 'model';
}

/** The stages a build on `route` runs, in order. */
export function stagesOf(route: Route, table: readonly StageSpec[] = STAGES): StageSpec[] {
  return table.filter((s) => s.routes.includes(route));
}

/** The stage ingest hands a new build on `route` to. */
export function firstStage(route: Route, table: readonly StageSpec[] = STAGES): StageName {
  const first = stagesOf(route, table)[0];
  if (!first) throw new Error(`no stage runs builds of route ${route}`);
  return first.name;
}

/** The stage after `name` on `route`, or undefined after the last. */
export function nextStage(name: StageName, route: Route = 'model', table: readonly StageSpec[] = STAGES) {
  const names = stagesOf(route, table).map((s) => s.name);
  const i = names.indexOf(name);
  return i < 0 ? undefined : names[i + 1];
}

/** The stage before `name` on `route`, or undefined for the first. */
export function previousStage(name: StageName, route: Route = 'model', table: readonly StageSpec[] = STAGES) {
  const names = stagesOf(route, table).map((s) => s.name);
  const i = names.indexOf(name);
  return i <= 0 ? undefined : names[i - 1];
}

export function stageTopic(prefix: string, stage: StageName): string {
  return `${prefix}-${stage}`;
}

/** Artifact name of a unit's output: plain for single-unit stages, `<unit key>/<name>` when the stage fans out. */
export function unitArtifactName(unit: UnitSpec, name: string): string {
  return unit.count > 1 ? `${unit.key}/${name}` : name;
}

/** Whether the stage's core is given the upload (rather than artifacts of earlier stages). */
export function readsUpload(spec: StageSpec): boolean {
  return spec.reads.includes(UPLOAD_PREFIX);
}

/** Whether the stage's core is given the artifact `name` (a data manifest counts when the stage reads a data folder). */
export function readsArtifact(spec: StageSpec, name: string): boolean {
  return spec.reads.some((r) => artifactMatches(r, name));
}

/** Whether the stage reads any data folder (so the data manifests must be read). */
export function readsData(spec: StageSpec): boolean {
  return spec.reads.some((r) => r !== UPLOAD_PREFIX && r.endsWith('/'));
}

/** Whether the stage's summary belongs in the build's summary (bookkeeping stages have none). */
export function summarized(name: string, table: readonly StageSpec[] = STAGES): boolean {
  return table.some((s) => s.name === name && s.core !== null);
}

/** The build summary without the entries of bookkeeping stages. */
export function publicSummary(summary: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(summary).filter(([k]) => summarized(k) || !isStageName(k)));
}

function isStageName(s: string): s is StageName {
  return (STAGE_NAMES as readonly string[]).includes(s);
}
