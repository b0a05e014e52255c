import * as ff from '@google-cloud/functions-framework';
import { leaseMsFor } from '../../shared/pipeline/config.js';
import { log } from '../../shared/pipeline/log.js';
import { parseStageMessage } from '../../shared/pipeline/messages.js';
import { messageBytesOf } from '../../shared/pipeline/pubsub-envelope.js';
import { handleDeadLetter } from '../../shared/pipeline/sweep.js';
import { runtime } from '../lib/runtime.js';

/**
 * deadletter: a push from any stage's dead-letter subscription (Pub/Sub forwards a stage message there after the
 * subscription's max delivery attempts) → the build fails with the stage, the deliveries and the last error, and the
 * failure events are published. Always acknowledges: a dead letter is handled once.
 */
ff.cloudEvent('deadletter', async (event: ff.CloudEvent<unknown>) => {
  const envelope = messageBytesOf(event.data);
  if (!envelope.ok) return log.deadLetterDropped(envelope.reason);
  const parsed = parseStageMessage(envelope.bytes);
  if (!parsed.ok) return log.deadLetterDropped(parsed.reason);
  const deliveries = Number(envelope.attributes['CloudPubSubDeadLetterSourceDeliveryCount'] ?? 0);
  const rt = runtime();
  await handleDeadLetter(rt.deps, parsed.message, deliveries, {
    config: rt.config,
    leaseMs: (stage) => leaseMsFor(rt.config, stage),
  });
});
