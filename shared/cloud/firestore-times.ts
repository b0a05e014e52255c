import { Timestamp } from 'firebase-admin/firestore';
import type { BuildRecord } from '../pipeline/build-state.js';
import type { ModelEntry } from './model-entry.js';

/**
 * Times in Firestore are Timestamps (the console shows and sorts them as times); the pure pipeline code keeps ISO
 * strings. This is the one place that converts, both ways, at the store adapter's edge: `toStored*` before a write,
 * `fromStored*` after a read. Which fields are times is a table per document kind.
 */
type Doc = Record<string, unknown>;

/** Time fields of a build document: top level, per stage, per unit. */
const BUILD_TIMES = ['createdAt', 'updatedAt', 'finishedAt'] as const;
const STAGE_TIMES = ['startedAt', 'finishedAt'] as const;
const UNIT_TIMES = ['startedAt', 'finishedAt'] as const;
/** Time fields of a model document (and of its `best` entry). */
const MODEL_TIMES = ['latestCreatedAt', 'updatedAt'] as const;
const BEST_TIMES = ['finishedAt'] as const;

export function toTimestamp(iso: string): Timestamp {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`not an ISO time: ${iso}`);
  return Timestamp.fromMillis(ms);
}

/** A stored time back to ISO: Timestamps convert; strings (documents written before Timestamps) pass through. */
export function toIso(v: unknown): unknown {
  return v instanceof Timestamp ? v.toDate().toISOString() : v;
}

function mapFields(doc: Doc, fields: readonly string[], fn: (v: unknown) => unknown): Doc {
  const out: Doc = { ...doc };
  for (const f of fields) if (out[f] !== undefined) out[f] = fn(out[f]);
  return out;
}

const toStored = (v: unknown) => (typeof v === 'string' ? toTimestamp(v) : v);

function mapBuild(record: Doc, fn: (v: unknown) => unknown): Doc {
  const out = mapFields(record, BUILD_TIMES, fn);
  const stages = record['stages'] as Record<string, Doc> | undefined;
  if (stages) {
    out['stages'] = Object.fromEntries(
      Object.entries(stages).map(([name, s]) => {
        const stage = mapFields(s, STAGE_TIMES, fn);
        const units = s['units'] as Record<string, Doc> | undefined;
        if (units)
          stage['units'] = Object.fromEntries(Object.entries(units).map(([k, u]) => [k, mapFields(u, UNIT_TIMES, fn)]));
        return [name, stage];
      }),
    );
  }
  return out;
}

function mapModel(entry: Doc, fn: (v: unknown) => unknown): Doc {
  const out = mapFields(entry, MODEL_TIMES, fn);
  const best = entry['best'] as Doc | undefined;
  if (best) out['best'] = mapFields(best, BEST_TIMES, fn);
  return out;
}

export const toStoredBuild = (r: BuildRecord): Doc => mapBuild(r as unknown as Doc, toStored);
export const fromStoredBuild = (d: Doc): BuildRecord => mapBuild(d, toIso) as unknown as BuildRecord;
export const toStoredModel = (m: ModelEntry): Doc => mapModel(m as unknown as Doc, toStored);
export const fromStoredModel = (d: Doc): ModelEntry => mapModel(d, toIso) as unknown as ModelEntry;
