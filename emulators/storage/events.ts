/**
 * Eventarc-style delivery of Cloud Storage events as binary-mode CloudEvents over HTTP, with
 * bounded exponential-backoff retries. Delivery never blocks the request that caused the event.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { SubscriberSchema, type DeliveryOptions, type StorageEventType, type SubscriberInput } from './config.js';
import type { Logger } from './log.js';
import type { ObjectResource } from './resource.js';

export interface Subscriber {
  id: string;
  bucket?: string;
  eventType: StorageEventType;
  url: string;
}

export interface StorageCloudEvent {
  id: string;
  type: StorageEventType;
  source: string;
  subject: string;
  time: string;
  bucket: string;
  data: ObjectResource;
}

export function buildEvent(type: StorageEventType, data: ObjectResource, time: string): StorageCloudEvent {
  return {
    id: randomUUID(),
    type,
    source: `//storage.googleapis.com/projects/_/buckets/${data.bucket}`,
    subject: `objects/${data.name}`,
    time,
    bucket: data.bucket,
    data,
  };
}

/** HTTP headers of a binary-mode CloudEvent (attributes as `ce-*` headers, data as the body). */
export function binaryHeaders(event: StorageCloudEvent): Record<string, string> {
  return {
    'ce-specversion': '1.0',
    'ce-id': event.id,
    'ce-source': event.source,
    'ce-type': event.type,
    'ce-subject': event.subject,
    'ce-time': event.time,
    'ce-bucket': event.bucket,
    'content-type': 'application/json',
    'user-agent': 'kiln-storage-emulator',
  };
}

export class EventDispatcher {
  readonly #subscribers = new Map<string, Subscriber>();
  readonly #delivery: DeliveryOptions;
  readonly #log: Logger;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #inflight = new Set<AbortController>();
  #pending = 0;
  #idleWaiters: (() => void)[] = [];
  #closed = false;

  constructor(delivery: DeliveryOptions, log: Logger) {
    this.#delivery = delivery;
    this.#log = log;
  }

  addSubscriber(input: SubscriberInput): Subscriber {
    const parsed = SubscriberSchema.safeParse(input);
    if (!parsed.success) throw new Error(`Invalid subscriber: ${z.prettifyError(parsed.error)}`);
    const { bucket, eventType, url } = parsed.data;
    const sub: Subscriber = { id: randomUUID(), eventType, url, ...(bucket && bucket !== '*' ? { bucket } : {}) };
    this.#subscribers.set(sub.id, sub);
    this.#log.info('subscriber added', { subscriber: sub });
    return sub;
  }

  removeSubscriber(id: string): boolean {
    const removed = this.#subscribers.delete(id);
    if (removed) this.#log.info('subscriber removed', { subscriberId: id });
    return removed;
  }

  listSubscribers(): Subscriber[] {
    return [...this.#subscribers.values()].map((s) => ({ ...s }));
  }

  /** Queues delivery of `type` for `data` to every matching subscriber and returns immediately. */
  publish(type: StorageEventType, data: ObjectResource, time: string): StorageCloudEvent | undefined {
    if (this.#closed) return undefined;
    const targets = [...this.#subscribers.values()].filter(
      (s) => s.eventType === type && (s.bucket === undefined || s.bucket === data.bucket),
    );
    if (targets.length === 0) return undefined;
    const event = buildEvent(type, data, time);
    for (const sub of targets) {
      this.#pending++;
      this.#schedule(sub, event, 1, 0);
    }
    return event;
  }

  /** Resolves once every queued delivery has succeeded or been given up. */
  idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops retries and aborts in-flight deliveries. */
  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const c of this.#inflight) c.abort();
    this.#pending = 0;
    this.#settle();
  }

  #schedule(sub: Subscriber, event: StorageCloudEvent, attempt: number, delayMs: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#attempt(sub, event, attempt);
    }, delayMs);
    this.#timers.add(timer);
  }

  async #attempt(sub: Subscriber, event: StorageCloudEvent, attempt: number): Promise<void> {
    if (this.#closed) return;
    const fields = {
      eventId: event.id,
      eventType: event.type,
      subject: event.subject,
      bucket: event.bucket,
      subscriberId: sub.id,
      url: sub.url,
      attempt,
      maxAttempts: this.#delivery.maxAttempts,
    };
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), this.#delivery.timeoutMs);
    this.#inflight.add(controller);
    let failure: Record<string, unknown>;
    try {
      const res = await fetch(sub.url, {
        method: 'POST',
        headers: binaryHeaders(event),
        body: JSON.stringify(event.data),
        signal: controller.signal,
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) {
        this.#log.info('event delivered', { ...fields, status: res.status });
        this.#done();
        return;
      }
      failure = { status: res.status };
    } catch (err) {
      failure = { error: describeFetchError(err, controller.signal.aborted) };
    } finally {
      clearTimeout(timeout);
      this.#inflight.delete(controller);
    }
    if (this.#closed) return;
    if (attempt >= this.#delivery.maxAttempts) {
      this.#log.error('event delivery failed permanently; dropping event', { ...fields, ...failure });
      this.#done();
      return;
    }
    const backoff = Math.min(this.#delivery.initialBackoffMs * 2 ** (attempt - 1), this.#delivery.maxBackoffMs);
    this.#log.warn('event delivery failed; will retry', { ...fields, ...failure, retryInMs: backoff });
    this.#schedule(sub, event, attempt + 1, backoff);
  }

  #done(): void {
    this.#pending = Math.max(0, this.#pending - 1);
    this.#settle();
  }

  #settle(): void {
    if (this.#pending > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}

function describeFetchError(err: unknown, aborted: boolean): string {
  if (aborted) return 'timed out';
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  const detail = cause?.code ?? cause?.message;
  return detail ? `${err.message}: ${String(detail)}` : err.message;
}
