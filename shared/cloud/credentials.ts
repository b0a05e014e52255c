import { KilnError } from '../common/errors.js';
import type { CloudClients } from './clients.js';

/**
 * A `kiln` command that talks to Google Cloud checks first that Application Default Credentials exist, so a machine
 * without them gets one line naming the problem and the fix (exit 2) instead of the client library's error and an
 * unhandled rejection from inside it. Services served by an emulator need no credentials.
 */
export type CloudService = 'storage' | 'pubsub' | 'firestore';

/** The emulator variable of each service (the local stack sets them; `kiln local` prints them). */
export const EMULATOR_HOST_OF: Record<CloudService, string> = {
  storage: 'STORAGE_EMULATOR_HOST',
  pubsub: 'PUBSUB_EMULATOR_HOST',
  firestore: 'FIRESTORE_EMULATOR_HOST',
};

/** google-auth-library's message when Application Default Credentials find nothing. */
const NO_CREDENTIALS = /Could not load the default credentials/;

/** The services of the list that are not served by an emulator, i.e. need credentials. Pure. */
export function servicesNeedingCredentials(
  services: readonly CloudService[],
  env: Record<string, string | undefined>,
): CloudService[] {
  return services.filter((s) => !env[EMULATOR_HOST_OF[s]]);
}

export async function requireCredentials(
  clients: CloudClients,
  services: readonly CloudService[],
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  const needing = servicesNeedingCredentials(services, env);
  if (needing.length === 0) return;
  try {
    await clients.storage.authClient.getClient();
  } catch (e) {
    if (!NO_CREDENTIALS.test((e as Error)?.message ?? '')) throw e;
    throw new KilnError('E_NO_CREDENTIALS', `no Google Cloud credentials found for ${needing.join(', ')}`, {
      hint:
        'Run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a service account key ' +
        'file; for the local stack, start `kiln local` and export the *_EMULATOR_HOST variables it prints',
      cause: e,
    });
  }
}
