import type { Message, Subscription } from '@google-cloud/pubsub';
import { randomUUID } from 'node:crypto';
import { cloudClients } from '../../shared/cloud/clients.js';
import { isTerminalEvent } from '../../shared/cloud/event-watcher.js';
import { readBuild as readStoredBuild } from '../../shared/cloud/firestore-queries.js';
import type { BuildRecord } from '../../shared/pipeline/build-state.js';
import type { PipelineConfig } from '../../shared/pipeline/config.js';
import { fromPubsubMessage, type KilnCloudEvent } from '../../shared/pipeline/events.js';
import { setLogSink, type LogEntry } from '../../shared/pipeline/log.js';

/** Test helpers over a running local stack: an events subscriber, build polling, captured logs. */
export interface EventCollector {
  events: KilnCloudEvent[];
  /** Resolves once an event matches (or rejects after timeoutMs). */
  waitFor(pred: (e: KilnCloudEvent) => boolean, timeoutMs?: number): Promise<KilnCloudEvent>;
  close(): Promise<void>;
}

export async function collectEvents(config: PipelineConfig): Promise<EventCollector> {
  const { pubsub } = cloudClients(config);
  const [sub]: [Subscription, ...unknown[]] = await pubsub
    .topic(config.topics.events)
    .createSubscription(`test-events-${randomUUID()}`);
  const events: KilnCloudEvent[] = [];
  const waiters: { pred: (e: KilnCloudEvent) => boolean; resolve: (e: KilnCloudEvent) => void }[] = [];
  sub.on('message', (m: Message) => {
    m.ack();
    const e = fromPubsubMessage(m.data, m.attributes);
    events.push(e);
    for (const w of [...waiters]) {
      if (w.pred(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  });
  return {
    events,
    waitFor: (pred, timeoutMs = 120_000) => {
      const found = events.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out waiting for a build event')), timeoutMs);
        waiters.push({ pred, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      });
    },
    close: async () => {
      await sub.close();
      await sub.delete().catch(() => undefined);
    },
  };
}

export async function readBuild(
  config: PipelineConfig,
  modelId: string,
  buildId: string,
): Promise<BuildRecord | undefined> {
  return readStoredBuild(cloudClients(config).firestore, modelId, buildId);
}

export function captureLogs(): { lines: LogEntry[]; restore: () => void } {
  const lines: LogEntry[] = [];
  const prev = setLogSink((l) => lines.push(l));
  return { lines, restore: () => setLogSink(prev) };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Matches the build's terminal event (completed or failed). */
export const terminalOf =
  (buildId: string) =>
  (e: KilnCloudEvent): boolean =>
    e.data.buildId === buildId && isTerminalEvent(e);
