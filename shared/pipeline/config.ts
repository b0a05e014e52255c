import { z } from 'zod';
import { KilnError } from '../common/errors.js';
import { deadlineMs, settingsOf, type FunctionName } from './stage-settings.js';

/**
 * Pipeline configuration, read from environment variables once at start and validated with zod. Every name has a
 * default that works on the local stack; `loadConfig` throws one readable KilnError listing every bad variable.
 */
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().min(1);
const name = z.string().regex(/^[a-z0-9][a-z0-9._-]{1,220}$/, 'lowercase letters, digits, . _ - (2-222 chars)');

export const ENV_SCHEMA = z.object({
  KILN_PROJECT_ID: z
    .string()
    .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'a Google Cloud project id')
    .default('kiln-local'),
  KILN_UPLOADS_BUCKET: name.default('kiln-uploads'),
  KILN_ARTIFACTS_BUCKET: name.default('kiln-artifacts'),
  /** Prefix of the stage topics: `<prefix>-convert`, `<prefix>-quantize`, … */
  KILN_STAGE_TOPIC_PREFIX: name.default('kiln-stage'),
  /** The topic users subscribe to for build CloudEvents. */
  KILN_EVENTS_TOPIC: name.default('kiln-events'),
  /** Local stack ports; 0 picks an ephemeral port. */
  KILN_PUBSUB_PORT: port.default(0),
  KILN_FIRESTORE_PORT: port.default(0),
  KILN_STORAGE_PORT: port.default(0),
  KILN_FUNCTIONS_PORT: port.default(0),
  /** Largest upload (bytes, single file or whole folder) a build accepts. */
  KILN_MAX_UPLOAD_BYTES: positiveInt.default(512 * 1024 * 1024),
  /** Attempts per unit of work before an unexplained error fails the build. */
  KILN_MAX_ATTEMPTS: positiveInt.max(20).default(3),
  /** Most compile targets / verification shards one build may fan out to. */
  KILN_MAX_FANOUT: positiveInt.max(64).default(8),
  /**
   * A unit running for less than this is taken to be alive elsewhere. Unset: each function's lease from its settings
   * (stage-settings.ts: the platform's request timeout plus a margin). Set: one lease for every function (tests).
   */
  KILN_LEASE_MS: positiveInt.optional(),
  /** Most parameters (elements of constant tensors) a converted model may have. */
  KILN_MAX_PARAMETERS: positiveInt.default(200_000_000),
  /** Most calibration images (files in the upload, or `quantize.samples`) one build may use. */
  KILN_MAX_CALIBRATION_IMAGES: positiveInt.default(10_000),
  /**
   * Longest wall time of one unit of one stage. Unset: each stage's deadline from stage-settings.ts (below the
   * platform's request timeout). Set: a cap on every stage's deadline.
   */
  KILN_STAGE_TIMEOUT_MS: positiveInt.optional(),
  /**
   * Where a stage core runs: `worker` (a worker thread per unit, terminated at the unit's deadline — what the deployed
   * functions use) or `none` (in the calling thread: kiln build, tests).
   */
  KILN_UNIT_ISOLATION: z.enum(['worker', 'none']).default('none'),
  /** Threads the quantize stage calibrates on; 0: one per CPU available to the instance. */
  KILN_CALIBRATION_THREADS: z.coerce.number().int().min(0).max(256).default(0),
});

export type Env = z.output<typeof ENV_SCHEMA>;

export interface PipelineConfig {
  projectId: string;
  buckets: { uploads: string; artifacts: string };
  topics: { stagePrefix: string; events: string };
  ports: { pubsub: number; firestore: number; storage: number; functions: number };
  limits: {
    maxUploadBytes: number;
    maxAttempts: number;
    maxFanout: number;
    /** KILN_LEASE_MS when set; otherwise each function's lease comes from stage-settings.ts (leaseMsFor). */
    leaseMs: number | undefined;
    maxParameters: number;
    maxCalibrationImages: number;
    /** KILN_STAGE_TIMEOUT_MS when set: a cap on every stage's deadline (deadlineMsFor). */
    stageTimeoutMs: number | undefined;
  };
  /** Calibration threads of the quantize stage (0: one per available CPU). */
  calibrationThreads: number;
  /** Where stage cores run (KILN_UNIT_ISOLATION). */
  unitIsolation: 'worker' | 'none';
}

export function configFromEnv(env: Env): PipelineConfig {
  return {
    projectId: env.KILN_PROJECT_ID,
    buckets: { uploads: env.KILN_UPLOADS_BUCKET, artifacts: env.KILN_ARTIFACTS_BUCKET },
    topics: { stagePrefix: env.KILN_STAGE_TOPIC_PREFIX, events: env.KILN_EVENTS_TOPIC },
    ports: {
      pubsub: env.KILN_PUBSUB_PORT,
      firestore: env.KILN_FIRESTORE_PORT,
      storage: env.KILN_STORAGE_PORT,
      functions: env.KILN_FUNCTIONS_PORT,
    },
    limits: {
      maxUploadBytes: env.KILN_MAX_UPLOAD_BYTES,
      maxAttempts: env.KILN_MAX_ATTEMPTS,
      maxFanout: env.KILN_MAX_FANOUT,
      leaseMs: env.KILN_LEASE_MS,
      maxParameters: env.KILN_MAX_PARAMETERS,
      maxCalibrationImages: env.KILN_MAX_CALIBRATION_IMAGES,
      stageTimeoutMs: env.KILN_STAGE_TIMEOUT_MS,
    },
    calibrationThreads: env.KILN_CALIBRATION_THREADS,
    unitIsolation: env.KILN_UNIT_ISOLATION,
  };
}

/** The lease of one function's units: KILN_LEASE_MS, or the function's own (its platform timeout plus a margin). */
export function leaseMsFor(config: PipelineConfig, fn: FunctionName): number {
  return config.limits.leaseMs ?? settingsOf(fn, config.limits.maxAttempts).leaseS * 1000;
}

/** Kiln's in-process deadline for one unit of a stage: the stage's own, capped by KILN_STAGE_TIMEOUT_MS. */
export function deadlineMsFor(config: PipelineConfig, fn: FunctionName): number {
  return deadlineMs(fn, config.limits.stageTimeoutMs);
}

/** Validates the KILN_* variables of `env` (empty strings count as unset). */
export function loadConfig(env: Record<string, string | undefined> = process.env): PipelineConfig {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(ENV_SCHEMA.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') picked[key] = v;
  }
  const parsed = ENV_SCHEMA.safeParse(picked);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new KilnError('E_BAD_ARGUMENT', `invalid pipeline configuration: ${problems}`, {
      hint: 'Fix the named environment variables (see docs/pipeline.md)',
    });
  }
  const config = configFromEnv(parsed.data);
  if (config.buckets.uploads === config.buckets.artifacts) {
    throw new KilnError('E_BAD_ARGUMENT', 'KILN_UPLOADS_BUCKET and KILN_ARTIFACTS_BUCKET must differ', {
      hint: 'Artifacts in the uploads bucket would start builds of their own',
    });
  }
  return config;
}
