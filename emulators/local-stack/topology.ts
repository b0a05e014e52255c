import type { PubSub } from '@google-cloud/pubsub';
import type { Storage } from '@google-cloud/storage';
import type { PipelineConfig } from '../../shared/pipeline/config.js';
import { settingsOf } from '../../shared/pipeline/stage-settings.js';
import { EVENTS_RETENTION_SECONDS } from '../../shared/pipeline/events.js';
import { STAGE_NAMES, stageTopic } from '../../shared/pipeline/stages.js';

/**
 * The resources of a Kiln deployment, created through the official clients: both buckets, one topic per stage with a
 * push subscription to its function, and the events topic users subscribe to.
 */
export async function createBuckets(storage: Storage, config: PipelineConfig): Promise<void> {
  for (const name of [config.buckets.uploads, config.buckets.artifacts]) {
    const bucket = storage.bucket(name);
    const [exists] = await bucket.exists();
    if (!exists) await storage.createBucket(name);
  }
}

export async function ensureTopic(pubsub: PubSub, name: string, retentionSeconds?: number): Promise<void> {
  const topic = pubsub.topic(name);
  const [exists] = await topic.exists();
  if (!exists)
    await pubsub.createTopic({
      name,
      ...(retentionSeconds ? { messageRetentionDuration: { seconds: retentionSeconds } } : {}),
    });
}

/** Push endpoint of a stage function; the path names the topic the way the functions framework expects. */
export function pushEndpoint(functionUrl: string, projectId: string, topic: string): string {
  return `${functionUrl}/projects/${projectId}/topics/${topic}`;
}

/** The dead-letter topic of a stage's push subscription (terraform/pubsub.tf names it the same). */
export const deadLetterTopic = (stageTopicName: string): string => `${stageTopicName}-dead-letter`;

/** A push subscription to `endpoint`, created or pointed there. */
async function ensurePush(
  pubsub: PubSub,
  topic: string,
  name: string,
  endpoint: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const sub = pubsub.subscription(name);
  const [exists] = await sub.exists();
  if (exists) await sub.modifyPushConfig({ pushEndpoint: endpoint });
  else
    await pubsub.topic(topic).createSubscription(name, {
      pushConfig: { pushEndpoint: endpoint },
      // Shorter back-off than the cloud's (stage-settings.ts) so local redeliveries come quickly.
      retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 30 } },
      ...extra,
    });
}

/**
 * Each stage topic pushes to its function, with a dead-letter policy whose limit comes from the settings table; each
 * dead-letter topic pushes to the deadletter function (as terraform/pubsub.tf).
 */
export async function createStageSubscriptions(
  pubsub: PubSub,
  config: PipelineConfig,
  functionUrls: Record<string, string>,
): Promise<void> {
  // As in terraform/pubsub.tf: the events topic keeps 7 days, so late subscribers can seek back.
  await ensureTopic(pubsub, config.topics.events, EVENTS_RETENTION_SECONDS);
  for (const stage of STAGE_NAMES) {
    const topic = stageTopic(config.topics.stagePrefix, stage);
    const deadLetter = deadLetterTopic(topic);
    await ensureTopic(pubsub, topic);
    await ensureTopic(pubsub, deadLetter);
    const s = settingsOf(stage, config.limits.maxAttempts);
    await ensurePush(pubsub, topic, `${topic}-push`, pushEndpoint(functionUrls[stage]!, config.projectId, topic), {
      ackDeadlineSeconds: s.ackDeadlineS,
      deadLetterPolicy: {
        deadLetterTopic: `projects/${config.projectId}/topics/${deadLetter}`,
        maxDeliveryAttempts: s.maxDeliveryAttempts,
      },
    });
    await ensurePush(
      pubsub,
      deadLetter,
      `${deadLetter}-push`,
      pushEndpoint(functionUrls['deadletter']!, config.projectId, deadLetter),
    );
  }
}
