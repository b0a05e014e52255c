import * as ff from '@google-cloud/functions-framework';
import { z } from 'zod';
import { ingestUpload } from '../../shared/pipeline/ingest.js';
import { eventTraceparent, invoke } from '../../shared/pipeline/invocation.js';
import { log } from '../../shared/pipeline/log.js';
import { StorageObjectDataSchema } from '../../shared/pipeline/pubsub-envelope.js';
import { runtime } from '../lib/runtime.js';

/** ingest: `google.cloud.storage.object.v1.finalized` on the uploads bucket → at most one build per generation. */
ff.cloudEvent('ingest', async (event: ff.CloudEvent<unknown>) => {
  if (event.type !== 'google.cloud.storage.object.v1.finalized')
    return log.badMessage('ingest', `event type ${event.type}`);
  const parsed = StorageObjectDataSchema.safeParse(event.data);
  if (!parsed.success) return log.badMessage('ingest', z.prettifyError(parsed.error));
  const o = parsed.data;
  const rt = runtime();
  const incoming = { traceparent: eventTraceparent(event) };
  await invoke({ service: 'ingest', projectId: rt.config.projectId, incoming }, () =>
    ingestUpload(
      rt.deps,
      {
        bucket: o.bucket,
        name: o.name,
        generation: o.generation,
        size: o.size ?? 0,
        ...(o.metadata ? { metadata: o.metadata } : {}),
      },
      { config: rt.config, leaseMs: rt.leaseMs('ingest') },
    ),
  );
});
