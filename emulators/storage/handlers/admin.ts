/**
 * Emulator admin endpoints (not part of the GCS API):
 *   GET    /_kiln/health
 *   GET    /_kiln/subscriptions
 *   POST   /_kiln/subscriptions        {bucket?, eventType, url} -> 201 subscriber
 *   DELETE /_kiln/subscriptions/{id}
 */
import type { RequestContext } from '../context.js';
import { badRequest, methodNotAllowed, notFound } from '../errors.js';
import { readBody, sendEmpty, sendJson } from '../http.js';

export async function handleAdmin(ctx: RequestContext, segments: string[]): Promise<void> {
  const [resource, id, ...rest] = segments;
  if (rest.length > 0) throw notFound();
  if (resource === 'health' && id === undefined) {
    if (ctx.method !== 'GET') throw methodNotAllowed();
    sendJson(ctx.res, 200, { status: 'ok' });
    return;
  }
  if (resource !== 'subscriptions') throw notFound();
  const events = ctx.app.events;
  if (id === undefined) {
    if (ctx.method === 'GET') {
      sendJson(ctx.res, 200, { subscriptions: events.listSubscribers() });
      return;
    }
    if (ctx.method === 'POST') {
      const raw = await readBody(ctx.req, 1024 * 1024);
      let input: unknown;
      try {
        input = JSON.parse(raw.toString('utf8'));
      } catch {
        throw badRequest('Parse Error', 'parseError');
      }
      let sub;
      try {
        sub = events.addSubscriber(input as Parameters<typeof events.addSubscriber>[0]);
      } catch (err) {
        throw badRequest(err instanceof Error ? err.message : String(err));
      }
      sendJson(ctx.res, 201, sub);
      return;
    }
    throw methodNotAllowed();
  }
  if (ctx.method !== 'DELETE') throw methodNotAllowed();
  if (!events.removeSubscriber(id)) throw notFound(`No such subscription: ${id}`);
  sendEmpty(ctx.res, 204);
}
