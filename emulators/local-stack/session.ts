import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { cloudClients } from '../../shared/cloud/clients.js';
import { EventWatcher } from '../../shared/cloud/event-watcher.js';
import { FirestoreBuildStore } from '../../shared/cloud/firestore-builds.js';
import { uploadModel, type UploadedModel } from '../../shared/cloud/upload-model.js';
import { resultFromEvent, type BuildResult } from '../../shared/pipeline/build-result.js';
import { stageTimings, type BuildRecord } from '../../shared/pipeline/build-state.js';
import { stageSplit } from '../../shared/pipeline/stage-split.js';
import type { LocalModel } from '../../shared/pipeline/local-model.js';
import { setLogSink, type LogEntry } from '../../shared/pipeline/log.js';
import { startLocalStack, type LocalStack, type LocalStackOptions } from './stack.js';

/**
 * The local stack plus a subscriber on the events topic: what `kiln local` and `npm start` run. Pipeline logs (one
 * JSON object per line) go to a file, or to a caller's sink, so the terminal shows results rather than log lines.
 */
export interface LocalSession {
  stack: LocalStack;
  watcher: EventWatcher;
  /** Uploads a model and resolves with its build's completion (or failure) event as a BuildResult. */
  build(
    model: LocalModel,
    opts?: { as?: string; timeoutMs?: number },
  ): Promise<BuildResult & { upload: UploadedModel }>;
  stop(): Promise<void>;
}

/** Every write the pipeline makes for a build is done: terminal event recorded, every completed stage handed off. */
function settled(record: BuildRecord): boolean {
  return (
    record.terminalEventPublished &&
    Object.values(record.stages).every((st) => st.status !== 'succeeded' || st.handedOff)
  );
}

export interface LocalSessionOptions extends LocalStackOptions {
  /** Where pipeline log lines go: a file path, or a function (tests). Default: dropped. */
  logs?: string | ((entry: LogEntry) => void);
}

export async function openLocalSession(opts: LocalSessionOptions = {}): Promise<LocalSession> {
  let file: WriteStream | undefined;
  let sink: (entry: LogEntry) => void = () => undefined;
  if (typeof opts.logs === 'string') {
    mkdirSync(dirname(opts.logs), { recursive: true });
    const stream = createWriteStream(opts.logs, { flags: 'a' });
    file = stream;
    sink = (entry) => stream.write(`${JSON.stringify(entry)}\n`);
  } else if (opts.logs) sink = opts.logs;
  const previous = setLogSink(sink);
  const restore = async (): Promise<void> => {
    setLogSink(previous);
    if (file) await new Promise<void>((r) => file!.end(() => r()));
  };
  let stack: LocalStack;
  try {
    stack = await startLocalStack(opts);
  } catch (e) {
    await restore();
    throw e;
  }
  let watcher: EventWatcher;
  try {
    watcher = await EventWatcher.open(cloudClients(stack.config).pubsub, stack.config.topics.events);
  } catch (e) {
    await stack.stop();
    await restore();
    throw e;
  }
  let stopped = false;
  return {
    stack,
    watcher,
    async build(model, o = {}) {
      const { storage } = cloudClients(stack.config);
      const upload = await uploadModel(storage, stack.config.buckets.uploads, model, o.as ? { as: o.as } : {});
      const event = await watcher.waitForBuild(upload.buildId, o.timeoutMs);
      const result = resultFromEvent(event)!;
      // A failed event carries no summary: the build record has what the stages that ran found, and their timings.
      // Functions still record their hand-offs after the event went out: let them settle before the stack stops.
      const store = new FirestoreBuildStore(cloudClients(stack.config).firestore);
      let record = await store.get(upload.modelId, upload.buildId);
      for (let i = 0; i < 40 && record && !settled(record); i++) {
        await new Promise((r) => setTimeout(r, 250));
        record = await store.get(upload.modelId, upload.buildId);
      }
      if (record) {
        const { finish: _finish, ...summary } = record.summary;
        if (Object.keys(result.summary).length === 0) result.summary = summary;
        result.stageTimings = stageTimings(record);
        result.stageSplit = stageSplit(record);
      }
      return { ...result, upload };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await watcher.close();
      await stack.stop();
      await restore();
    },
  };
}
