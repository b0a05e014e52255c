/** Shared state handed to every route handler. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventDispatcher } from './events.js';
import { selectFields } from './fields.js';
import { sendJson } from './http.js';
import type { Logger } from './log.js';
import type { ObjectRecord } from './records.js';
import { objectResource } from './resource.js';
import type { CommitResult, Store } from './store.js';
import type { UploadSessions } from './uploads.js';

export interface AppContext {
  store: Store;
  uploads: UploadSessions;
  events: EventDispatcher;
  log: Logger;
  /** The emulator's own URL (used in event payloads, which have no request to derive it from). */
  publicUrl(): string;
}

export interface RequestContext {
  app: AppContext;
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  query: URLSearchParams;
  /** Base URL as the client addressed us (for links in responses). */
  baseUrl: string;
}

/** Answers 200 with a JSON API resource, narrowed to the request's `fields` selection (partial response). */
export function sendResource(ctx: RequestContext, body: unknown): void {
  sendJson(ctx.res, 200, selectFields(body, ctx.query.get('fields')));
}

/** Emits Eventarc-style events for a committed write: `deleted` for a replaced object, then `finalized`. */
export function notifyCommitted(app: AppContext, result: CommitResult): void {
  if (result.replaced) notifyDeleted(app, result.replaced);
  app.events.publish(
    'google.cloud.storage.object.v1.finalized',
    objectResource(result.object, app.publicUrl()),
    result.object.updated,
  );
  app.log.info('object finalized', {
    bucket: result.object.bucket,
    object: result.object.name,
    generation: result.object.generation,
    size: result.object.size,
  });
}

export function notifyDeleted(app: AppContext, rec: ObjectRecord): void {
  app.events.publish(
    'google.cloud.storage.object.v1.deleted',
    objectResource(rec, app.publicUrl()),
    new Date().toISOString(),
  );
}

export function notifyMetadataUpdated(app: AppContext, rec: ObjectRecord): void {
  app.events.publish(
    'google.cloud.storage.object.v1.metadataUpdated',
    objectResource(rec, app.publicUrl()),
    rec.updated,
  );
}
