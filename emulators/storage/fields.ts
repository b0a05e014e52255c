/**
 * Partial responses: the `fields` query parameter of Google JSON APIs (gcloud sends e.g.
 * `fields=prefixes,items/name,items/size,nextPageToken` or `items(name,size)`). Grammar:
 *   list      := selector (',' selector)*
 *   selector  := name ('/' name)* ['(' list ')']     name may be `*` (every field)
 * Selecting a field of an array selects it in every element.
 */
import { badRequest } from './errors.js';

/** field → nested selection, or `true` for the whole value. */
export type FieldMask = Map<string, FieldMask | true>;

function merge(into: FieldMask, key: string, sub: FieldMask | true): void {
  const have = into.get(key);
  if (have === true || sub === true) {
    into.set(key, true);
    return;
  }
  if (!have) {
    into.set(key, sub);
    return;
  }
  for (const [k, v] of sub) merge(have, k, v);
}

export function parseFieldMask(spec: string): FieldMask {
  let pos = 0;
  const fail = (what: string): never => {
    throw badRequest(`Invalid field selection ${spec}: ${what} at position ${pos}.`, 'invalidParameter');
  };
  const name = (): string => {
    const m = /^\s*([A-Za-z0-9_.*-]+)\s*/.exec(spec.slice(pos));
    if (!m) return fail('expected a field name');
    pos += m[0].length;
    return m[1]!;
  };
  const list = (): FieldMask => {
    const mask: FieldMask = new Map();
    for (;;) {
      const path = [name()];
      while (spec[pos] === '/') {
        pos++;
        path.push(name());
      }
      let leaf: FieldMask | true = true;
      if (spec[pos] === '(') {
        pos++;
        leaf = list();
        if (spec[pos] !== ')') fail('expected ")"');
        pos++;
        while (spec[pos] === ' ') pos++;
      }
      let sub: FieldMask | true = leaf;
      for (let i = path.length - 1; i > 0; i--) sub = new Map([[path[i]!, sub]]);
      merge(mask, path[0]!, sub);
      if (spec[pos] !== ',') return mask;
      pos++;
    }
  };
  const mask = list();
  if (pos !== spec.length) fail('unexpected character');
  return mask;
}

export function applyFieldMask(value: unknown, mask: FieldMask): unknown {
  if (Array.isArray(value)) return value.map((v) => applyFieldMask(v, mask));
  if (value === null || typeof value !== 'object') return value;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const all = mask.get('*');
  for (const [k, v] of Object.entries(source)) {
    const sel = mask.get(k) ?? all;
    if (sel === undefined) continue;
    out[k] = sel === true ? v : applyFieldMask(v, sel);
  }
  return out;
}

/** `body` narrowed to `fields` (the whole body when the parameter is absent or empty). */
export function selectFields(body: unknown, fields: string | null): unknown {
  if (fields === null || fields.trim() === '') return body;
  return applyFieldMask(body, parseFieldMask(fields.trim()));
}
