import { Storage } from '@google-cloud/storage';
import { PubSub } from '@google-cloud/pubsub';
import { getApps, initializeApp, type App } from 'firebase-admin/app';
import { getFirestore, type Firestore } from 'firebase-admin/firestore';
import type { PipelineConfig } from '../pipeline/config.js';
import { applyMetadataDetection } from './metadata-detection.js';
import { STORAGE_RETRY } from './storage-retry.js';

/**
 * The official clients, one set per project. On the local stack they reach the emulators only through the standard
 * variables STORAGE_EMULATOR_HOST, PUBSUB_EMULATOR_HOST and FIRESTORE_EMULATOR_HOST; in Google Cloud they use the
 * default credentials. There is no other code path. Each client gets the project id of the config, and the metadata
 * server is looked up only where one can exist (shared/cloud/metadata-detection.ts), so nothing warns off Google Cloud.
 */
export interface CloudClients {
  storage: Storage;
  pubsub: PubSub;
  firestore: Firestore;
}

function firebaseApp(projectId: string): App {
  const name = `kiln-${projectId}`;
  return getApps().find((a) => a.name === name) ?? initializeApp({ projectId }, name);
}

const cache = new Map<string, CloudClients>();

export function cloudClients(config: PipelineConfig): CloudClients {
  applyMetadataDetection();
  const key = [
    config.projectId,
    process.env['STORAGE_EMULATOR_HOST'],
    process.env['PUBSUB_EMULATOR_HOST'],
    process.env['FIRESTORE_EMULATOR_HOST'],
  ].join('|');
  let clients = cache.get(key);
  if (!clients) {
    const firestore = getFirestore(firebaseApp(config.projectId));
    if (!firestoreSettled.has(firestore)) {
      firestore.settings({ ignoreUndefinedProperties: true });
      firestoreSettled.add(firestore);
    }
    clients = {
      storage: new Storage({ projectId: config.projectId, retryOptions: STORAGE_RETRY }),
      pubsub: new PubSub({ projectId: config.projectId }),
      firestore,
    };
    cache.set(key, clients);
  }
  return clients;
}

const firestoreSettled = new WeakSet<Firestore>();

/** Closes the Pub/Sub and Firestore channels (tests and the local stack call it on shutdown). */
export async function closeCloudClients(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  await Promise.allSettled(all.flatMap((c) => [c.pubsub.close(), c.firestore.terminate()]));
}
