/**
 * How google-auth-library may look for the Compute Engine metadata server (gcp-metadata's METADATA_SERVER_DETECTION).
 * Left to itself it pings the server over the network whenever no credentials file is found, and outside Google Cloud
 * that ping fails with a `MetadataLookupWarning` on stderr of every `kiln` call. Kiln decides instead, from the process
 * environment alone:
 *
 * | environment | detection | why |
 * | --- | --- | --- |
 * | METADATA_SERVER_DETECTION already set by the user | theirs | an explicit choice wins |
 * | an emulator host set (the local stack) | `none` | the emulators need no credentials: nothing to look up |
 * | anywhere else | `bios-only` | Cloud Functions and Cloud Run are known by their environment variables, Compute Engine and Cloud Shell by the BIOS vendor and MAC address, without a network probe; elsewhere credentials come from a file (GOOGLE_APPLICATION_CREDENTIALS, `gcloud auth application-default login`) or are missing, and the error says so at once |
 */
export type MetadataDetection = 'none' | 'bios-only' | 'assume-present' | 'ping-only';

/** The emulator variables the official clients honour (shared/cloud/clients.ts). */
export const EMULATOR_HOST_VARS = ['STORAGE_EMULATOR_HOST', 'PUBSUB_EMULATOR_HOST', 'FIRESTORE_EMULATOR_HOST'] as const;

type Env = Record<string, string | undefined>;

/** Kiln's choice for an environment without an explicit METADATA_SERVER_DETECTION. Pure. */
export function metadataDetectionFor(env: Env): MetadataDetection {
  return EMULATOR_HOST_VARS.some((name) => Boolean(env[name])) ? 'none' : 'bios-only';
}

/** The value Kiln last wrote into each environment, so a later call may change its own choice but never the user's. */
const chosen = new WeakMap<Env, string>();

/** Sets METADATA_SERVER_DETECTION in env (process.env) before the clients are made, unless the user set it. */
export function applyMetadataDetection(env: Env = process.env): void {
  const current = env['METADATA_SERVER_DETECTION'];
  if (current !== undefined && current !== chosen.get(env)) return;
  const detection = metadataDetectionFor(env);
  chosen.set(env, detection);
  env['METADATA_SERVER_DETECTION'] = detection;
}
