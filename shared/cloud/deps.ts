import type { PipelineConfig } from '../pipeline/config.js';
import type { PipelineDeps } from '../pipeline/ports.js';
import { cloudClients } from './clients.js';
import { FirestoreBuildStore } from './firestore-builds.js';
import { PubsubPublisher } from './pubsub-publisher.js';
import { StorageObjects } from './storage-objects.js';

/** The pipeline's cloud dependencies for a config, over the official clients. */
export function cloudDeps(config: PipelineConfig): PipelineDeps {
  const c = cloudClients(config);
  return {
    store: new FirestoreBuildStore(c.firestore),
    objects: new StorageObjects(c.storage, config.buckets.artifacts),
    publisher: new PubsubPublisher(c.pubsub, config),
  };
}
