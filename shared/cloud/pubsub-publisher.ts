import type { PubSub } from '@google-cloud/pubsub';
import type { PipelineConfig } from '../pipeline/config.js';
import { toPubsubMessage, type KilnCloudEvent } from '../pipeline/events.js';
import { currentTrace, log } from '../pipeline/log.js';
import { encodeStageMessage, type StageMessage } from '../pipeline/messages.js';
import type { Publisher } from '../pipeline/ports.js';
import { stageTopic, type StageName } from '../pipeline/stages.js';
import { formatTraceparent } from '../pipeline/trace.js';

/** The `traceparent` of the current invocation's span, for what it publishes (the next stage continues the trace). */
function traceparent(): string | undefined {
  const trace = currentTrace();
  return trace ? formatTraceparent(trace) : undefined;
}

function traceAttribute(): { traceparent?: string } {
  const tp = traceparent();
  return tp ? { traceparent: tp } : {};
}

/**
 * Stage messages and build events through @google-cloud/pubsub. Both carry the publishing invocation's trace: a
 * `traceparent` attribute on stage messages, the CloudEvents `traceparent` extension (`ce-traceparent`) on events.
 */
export class PubsubPublisher implements Publisher {
  constructor(
    private readonly pubsub: PubSub,
    private readonly config: PipelineConfig,
  ) {}

  async publishStage(stage: StageName, message: StageMessage): Promise<void> {
    await this.pubsub.topic(stageTopic(this.config.topics.stagePrefix, stage)).publishMessage({
      data: encodeStageMessage(message),
      attributes: { buildId: message.buildId, stage, unit: message.unit.key, ...traceAttribute() },
    });
  }

  async publishEvent(event: KilnCloudEvent): Promise<void> {
    const tp = event.traceparent ?? traceparent();
    await this.pubsub
      .topic(this.config.topics.events)
      .publishMessage(toPubsubMessage(tp ? { ...event, traceparent: tp } : event));
    log.eventPublished({ buildId: event.data.buildId, modelId: event.data.modelId }, event.type, event.id);
  }
}
