import { z } from 'zod';
import { KilnError } from '../../shared/common/errors.js';
import type { PipelineConfig } from '../../shared/pipeline/config.js';
import { COMPILER_ENV } from '../../shared/toolchain/edgetpu/runner.js';
import type { FunctionName } from '../../functions/manifest.js';

/**
 * The environment of a function instance on the local stack, as Cloud Functions gives it: the KILN_* names terraform
 * sets (local.pipeline_env in terraform/main.tf; the emulator ports are the stack's own business), the emulator hosts
 * the official clients read, and what the runtime itself sets (PORT, K_SERVICE, FUNCTION_TARGET, NODE_ENV). Pure.
 */
export function pipelineEnv(config: PipelineConfig): Record<string, string> {
  return {
    KILN_PROJECT_ID: config.projectId,
    KILN_UPLOADS_BUCKET: config.buckets.uploads,
    KILN_ARTIFACTS_BUCKET: config.buckets.artifacts,
    KILN_STAGE_TOPIC_PREFIX: config.topics.stagePrefix,
    KILN_EVENTS_TOPIC: config.topics.events,
    KILN_MAX_UPLOAD_BYTES: String(config.limits.maxUploadBytes),
    KILN_MAX_ATTEMPTS: String(config.limits.maxAttempts),
    KILN_MAX_FANOUT: String(config.limits.maxFanout),
    KILN_MAX_PARAMETERS: String(config.limits.maxParameters),
    KILN_MAX_CALIBRATION_IMAGES: String(config.limits.maxCalibrationImages),
    KILN_CALIBRATION_THREADS: String(config.calibrationThreads),
    // As terraform sets it: each unit in a worker thread that its deadline terminates.
    KILN_UNIT_ISOLATION: 'worker',
    // Not set by terraform (each function's lease and deadline come from the settings table); tests shorten them.
    ...(config.limits.leaseMs !== undefined ? { KILN_LEASE_MS: String(config.limits.leaseMs) } : {}),
    ...(config.limits.stageTimeoutMs !== undefined
      ? { KILN_STAGE_TIMEOUT_MS: String(config.limits.stageTimeoutMs) }
      : {}),
  };
}

/** Names passed through from the stack's own environment: the machine (PATH, temp dir) and the local compiler. */
const PASSED_THROUGH = ['PATH', 'HOME', 'TMPDIR', 'LANG', COMPILER_ENV] as const;

export function functionEnv(o: {
  name: FunctionName;
  signature: string;
  port: number;
  config: PipelineConfig;
  emulators: { storage: string; pubsub: string; firestore: string };
  host: Record<string, string | undefined>;
}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of PASSED_THROUGH) {
    const v = o.host[k];
    if (v !== undefined && v !== '') env[k] = v;
  }
  return {
    ...env,
    ...pipelineEnv(o.config),
    STORAGE_EMULATOR_HOST: o.emulators.storage,
    PUBSUB_EMULATOR_HOST: o.emulators.pubsub,
    FIRESTORE_EMULATOR_HOST: o.emulators.firestore,
    GOOGLE_CLOUD_PROJECT: o.config.projectId,
    METADATA_SERVER_DETECTION: 'none',
    NODE_ENV: 'production',
    PORT: String(o.port),
    K_SERVICE: o.name,
    FUNCTION_TARGET: o.name,
    FUNCTION_SIGNATURE_TYPE: o.signature,
  };
}

/** Where the local stack's functions come from: the installed deploy bundle (default) or the TypeScript source. */
const FunctionsFromSchema = z.enum(['bundle', 'source']).default('bundle');
export type FunctionsFrom = z.output<typeof FunctionsFromSchema>;

export function functionsFrom(env: Record<string, string | undefined>): FunctionsFrom {
  const raw = env['KILN_FUNCTIONS_FROM'];
  const parsed = FunctionsFromSchema.safeParse(raw === '' ? undefined : raw);
  if (!parsed.success) {
    throw new KilnError('E_BAD_ARGUMENT', `KILN_FUNCTIONS_FROM is "${raw}"; it must be bundle or source`, {
      hint: 'bundle (default) serves the installed deploy bundle; source serves the TypeScript in the stack process',
    });
  }
  return parsed.data;
}
