/**
 * Generation / metageneration preconditions (ifGenerationMatch & co.), as query parameters.
 */
import { badRequest, noSuchObject, notModified, preconditionFailed, type GcsError } from './errors.js';

export interface Preconditions {
  ifGenerationMatch?: string;
  ifGenerationNotMatch?: string;
  ifMetagenerationMatch?: string;
  ifMetagenerationNotMatch?: string;
}

interface Versioned {
  generation: string;
  metageneration: string;
}

const KEYS = ['GenerationMatch', 'GenerationNotMatch', 'MetagenerationMatch', 'MetagenerationNotMatch'] as const;

/**
 * Reads `if{Source?}{Generation,Metageneration}{Match,NotMatch}` from the query string.
 * `source` selects the `ifSource...` family used by rewrite/copy/compose.
 */
export function parsePreconditions(query: URLSearchParams, source = false): Preconditions {
  const out: Preconditions = {};
  for (const key of KEYS) {
    const param = `if${source ? 'Source' : ''}${key}`;
    const raw = query.get(param);
    if (raw === null || raw === '') continue;
    if (!/^\d+$/.test(raw)) throw badRequest(`Invalid argument: ${param}=${raw}`);
    out[`if${key}`] = BigInt(raw).toString();
  }
  return out;
}

export function preconditionsFromJson(value: unknown): Preconditions {
  const q = new URLSearchParams();
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (typeof v === 'string' || typeof v === 'number') q.set(k, String(v));
  }
  return parsePreconditions(q);
}

export function hasPreconditions(p: Preconditions): boolean {
  return Object.values(p).some((v) => v !== undefined);
}

/**
 * Evaluates preconditions against the current live object (undefined when absent).
 * `kind: 'read'` reports failed not-match conditions as 304 (as GCS does for GET); writes always 412.
 */
export function evaluatePreconditions(
  current: Versioned | undefined,
  p: Preconditions,
  kind: 'read' | 'write',
): GcsError | undefined {
  if (p.ifGenerationMatch !== undefined) {
    const ok = p.ifGenerationMatch === '0' ? current === undefined : current?.generation === p.ifGenerationMatch;
    if (!ok) return preconditionFailed('If-Match');
  }
  if (p.ifMetagenerationMatch !== undefined && current?.metageneration !== p.ifMetagenerationMatch) {
    return preconditionFailed('If-Match');
  }
  // Per the JSON API docs, the not-match conditions also fail when there is no live object.
  const notMatchFailed =
    (p.ifGenerationNotMatch !== undefined &&
      (current === undefined || current.generation === p.ifGenerationNotMatch)) ||
    (p.ifMetagenerationNotMatch !== undefined &&
      (current === undefined || current.metageneration === p.ifMetagenerationNotMatch));
  if (notMatchFailed) return kind === 'read' ? notModified() : preconditionFailed('If-None-Match');
  return undefined;
}

export function assertPreconditions(current: Versioned | undefined, p: Preconditions, kind: 'read' | 'write'): void {
  const err = evaluatePreconditions(current, p, kind);
  if (err) throw err;
}

/** There is no object versioning: a `generation` parameter must name the live generation, else 404. */
export function checkGenerationParam(
  rec: Versioned & { bucket: string; name: string },
  query: URLSearchParams,
  param = 'generation',
): void {
  const g = query.get(param);
  if (g === null || g === '') return;
  if (!/^\d+$/.test(g)) throw badRequest(`Invalid argument: ${param}=${g}`);
  if (BigInt(g).toString() !== rec.generation) throw noSuchObject(rec.bucket, rec.name);
}
