import * as ff from '@google-cloud/functions-framework';
import { eventTraceparent, invoke, messageTraceparent } from '../../shared/pipeline/invocation.js';
import { log } from '../../shared/pipeline/log.js';
import { parseStageMessage } from '../../shared/pipeline/messages.js';
import { messageBytesOf } from '../../shared/pipeline/pubsub-envelope.js';
import { runUnit } from '../../shared/pipeline/run-unit.js';
import type { StageName } from '../../shared/pipeline/stages.js';
import { runtime } from './runtime.js';

/**
 * Registers the CloudEvent function of one stage: a Pub/Sub push → one unit of work. Throwing makes the framework
 * answer 500 so Pub/Sub redelivers; that happens only for a retryable failure under the attempt limit.
 */
export function registerStageFunction(stage: StageName): void {
  ff.cloudEvent(stage, async (event: ff.CloudEvent<unknown>) => {
    const envelope = messageBytesOf(event.data);
    if (!envelope.ok) return log.badMessage(stage, envelope.reason);
    const parsed = parseStageMessage(envelope.bytes);
    if (!parsed.ok) return log.badMessage(stage, parsed.reason);
    if (parsed.message.stage !== stage) return log.badMessage(stage, `message is for stage ${parsed.message.stage}`);
    const rt = runtime();
    const { buildId, modelId, unit } = parsed.message;
    // The unit's lines carry its build and the trace the build's previous stage published with the message.
    const outcome = await invoke(
      {
        service: stage,
        projectId: rt.config.projectId,
        incoming: { traceparent: messageTraceparent(envelope.attributes) ?? eventTraceparent(event) },
        labels: { build: buildId, model: modelId, stage, unit: unit.key },
      },
      () => runUnit(rt.deps, parsed.message, { config: rt.config, cores: rt.cores, leaseMs: rt.leaseMs(stage) }),
    );
    // A non-2xx answer is how a push subscription asks Pub/Sub to redeliver (the pipeline log says why).
    if (outcome === 'retry') throw redeliveryRequest(`${stage}/${parsed.message.unit.key}`);
  });
}

/**
 * The error thrown to make the framework answer 500. The pipeline has already logged why (a structured line), so the
 * framework's own stderr line is this one sentence rather than a stack trace.
 */
function redeliveryRequest(unit: string): Error {
  const e = new Error(`${unit}: asking Pub/Sub to redeliver (transient error or earlier work pending)`);
  e.stack = `Redelivery requested: ${e.message}`;
  return e;
}
