/** objects.list semantics: prefix, delimiter (collapsed `prefixes`), offsets and page tokens. */
import { badRequest } from './errors.js';

export interface ListQuery {
  prefix: string;
  delimiter?: string;
  startOffset?: string;
  endOffset?: string;
  includeTrailingDelimiter: boolean;
  maxResults: number;
  /** Resume after this key (decoded page token). */
  after?: string;
}

export interface ListPage<T> {
  items: T[];
  prefixes: string[];
  nextPageToken?: string;
}

export const DEFAULT_MAX_RESULTS = 1000;

export function encodePageToken(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

export function decodePageToken(token: string): string {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(token)) throw badRequest('Invalid pageToken.');
  return Buffer.from(token, 'base64url').toString('utf8');
}

export function parseListQuery(q: URLSearchParams): ListQuery {
  const maxRaw = q.get('maxResults');
  let maxResults = DEFAULT_MAX_RESULTS;
  if (maxRaw !== null && maxRaw !== '') {
    maxResults = Number(maxRaw);
    if (!Number.isInteger(maxResults) || maxResults < 0) throw badRequest(`Invalid maxResults: ${maxRaw}`);
    if (maxResults === 0 || maxResults > DEFAULT_MAX_RESULTS) maxResults = DEFAULT_MAX_RESULTS;
  }
  const out: ListQuery = {
    prefix: q.get('prefix') ?? '',
    includeTrailingDelimiter: q.get('includeTrailingDelimiter') === 'true',
    maxResults,
  };
  const delimiter = q.get('delimiter');
  if (delimiter) out.delimiter = delimiter;
  const startOffset = q.get('startOffset');
  if (startOffset) out.startOffset = startOffset;
  const endOffset = q.get('endOffset');
  if (endOffset) out.endOffset = endOffset;
  const token = q.get('pageToken');
  if (token) out.after = decodePageToken(token);
  return out;
}

/**
 * Pages through `sorted` (ascending by name). With a delimiter, names that contain it after the
 * prefix collapse into one prefix entry; each item or prefix counts once toward maxResults.
 */
export function listPage<T extends { name: string }>(sorted: readonly T[], q: ListQuery): ListPage<T> {
  const items: T[] = [];
  const prefixes: string[] = [];
  let entries = 0;
  let lastKey: string | undefined;
  let lastPrefix: string | undefined;
  for (const obj of sorted) {
    const name = obj.name;
    if (!name.startsWith(q.prefix)) continue;
    if (q.startOffset !== undefined && name < q.startOffset) continue;
    if (q.endOffset !== undefined && name >= q.endOffset) continue;
    let collapsed: string | undefined;
    if (q.delimiter) {
      const idx = name.indexOf(q.delimiter, q.prefix.length);
      if (idx >= 0) collapsed = name.slice(0, idx + q.delimiter.length);
    }
    const key = collapsed ?? name;
    if (q.after !== undefined && key <= q.after) continue;
    if (collapsed !== undefined && collapsed === lastPrefix) {
      // Same prefix as the previous entry; an exact "dir/" object may still be listed as an item.
      if (q.includeTrailingDelimiter && name === collapsed) items.push(obj);
      continue;
    }
    if (entries >= q.maxResults) {
      return { items, prefixes, nextPageToken: encodePageToken(lastKey!) };
    }
    entries++;
    lastKey = key;
    if (collapsed !== undefined) {
      lastPrefix = collapsed;
      prefixes.push(collapsed);
      if (q.includeTrailingDelimiter && name === collapsed) items.push(obj);
    } else {
      items.push(obj);
    }
  }
  return { items, prefixes };
}
