import type { Message, PubSub, Subscription } from '@google-cloud/pubsub';
import { randomUUID } from 'node:crypto';
import { fromPubsubMessage, type KilnCloudEvent } from '../pipeline/events.js';

/**
 * A subscriber to the build events topic: its own pull subscription (`kiln-watch-<uuid>`, deleted on close), events
 * decoded and deduplicated by CloudEvent id (delivery is at least once). `kiln watch`, `kiln upload --wait`,
 * `kiln local` and `npm start` use it. Create it before uploading so no event is missed.
 */
export type EventListener = (event: KilnCloudEvent) => void;

export const isTerminalEvent = (e: KilnCloudEvent): boolean =>
  e.type === 'dev.kiln.build.v1.completed' || e.type === 'dev.kiln.build.v1.failed';

export class EventWatcher {
  readonly events: KilnCloudEvent[] = [];
  private readonly seen = new Set<string>();
  private readonly listeners = new Set<EventListener>();

  private constructor(private readonly sub: Subscription) {
    sub.on('message', (m: Message) => {
      m.ack();
      let e: KilnCloudEvent;
      try {
        e = fromPubsubMessage(m.data, m.attributes);
      } catch {
        return; // a foreign message on the topic
      }
      if (this.seen.has(e.id)) return;
      this.seen.add(e.id);
      this.events.push(e);
      for (const l of [...this.listeners]) l(e);
    });
    sub.on('error', () => undefined);
  }

  static async open(pubsub: PubSub, topic: string, name = `kiln-watch-${randomUUID()}`): Promise<EventWatcher> {
    const [sub] = await pubsub.topic(topic).createSubscription(name, {
      ackDeadlineSeconds: 60,
      expirationPolicy: { ttl: { seconds: 24 * 3600 } },
    });
    return new EventWatcher(sub);
  }

  on(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The first event (already received or still to come) that matches; rejects after timeoutMs. */
  waitFor(pred: (e: KilnCloudEvent) => boolean, timeoutMs = 30 * 60_000): Promise<KilnCloudEvent> {
    const found = this.events.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no matching build event within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      const off = this.on((e) => {
        if (!pred(e)) return;
        clearTimeout(timer);
        off();
        resolve(e);
      });
    });
  }

  /** The `completed` or `failed` event of one build. */
  /** The build's terminal event; `onEvent` sees each of its events on the way (started, stage events). */
  waitForBuild(buildId: string, timeoutMs?: number, onEvent?: (e: KilnCloudEvent) => void): Promise<KilnCloudEvent> {
    return this.waitFor((e) => {
      if (e.data.buildId !== buildId) return false;
      onEvent?.(e);
      return isTerminalEvent(e);
    }, timeoutMs);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.sub.close().catch(() => undefined);
    await this.sub.delete().catch(() => undefined);
  }
}
