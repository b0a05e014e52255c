import type { PubSub } from '@google-cloud/pubsub';
import type { PipelineConfig } from '../pipeline/config.js';
import { toPubsubMessage, type KilnCloudEvent } from '../pipeline/events.js';
import { log } from '../pipeline/log.js';
import { encodeStageMessage, type StageMessage } from '../pipeline/messages.js';
import type { Publisher } from '../pipeline/ports.js';
import { stageTopic, type StageName } from '../pipeline/stages.js';

/** Stage messages and build events through @google-cloud/pubsub. */
export class PubsubPublisher implements Publisher {
  constructor(
    private readonly pubsub: PubSub,
    private readonly config: PipelineConfig,
  ) {}

  async publishStage(stage: StageName, message: StageMessage): Promise<void> {
    await this.pubsub.topic(stageTopic(this.config.topics.stagePrefix, stage)).publishMessage({
      data: encodeStageMessage(message),
      attributes: { buildId: message.buildId, stage, unit: message.unit.key },
    });
  }

  async publishEvent(event: KilnCloudEvent): Promise<void> {
    await this.pubsub.topic(this.config.topics.events).publishMessage(toPubsubMessage(event));
    log.eventPublished({ buildId: event.data.buildId, modelId: event.data.modelId }, event.type, event.id);
  }
}
