/**
 * Maps request paths to API operations. Accepted forms (the client uses `/storage/v1/...` with
 * `apiEndpoint`, or bare `/b/...` when STORAGE_EMULATOR_HOST is set):
 *   [/storage/v1]/b/{bucket}/storageLayout
 *   [/storage/v1]/b[/{bucket}[/o[/{object}[/rewriteTo|copyTo/b/{b}/o/{o} | /moveTo/o/{o} | /compose]]]]
 *   /upload/storage/v1/b/{bucket}/o   and   /resumable/upload/storage/v1/b/{bucket}/o   (gcloud's resumable path)
 *   /download/storage/v1/b/{bucket}/o/{object}
 *   GET|HEAD /{bucket}/{object}   (XML-API style public URL; media only)
 *   PUT /{bucket}/{object}        (XML API simple upload: `curl -T`, signed URLs)
 *   /_kiln/...   emulator admin endpoints
 */
import { badRequest } from './errors.js';

export type Route =
  | { kind: 'buckets' }
  | { kind: 'bucket'; bucket: string }
  | { kind: 'storageLayout'; bucket: string }
  | { kind: 'objects'; bucket: string }
  | { kind: 'object'; bucket: string; object: string }
  | { kind: 'copy'; op: 'rewriteTo' | 'copyTo'; bucket: string; object: string; destBucket: string; destObject: string }
  | { kind: 'move'; bucket: string; object: string; destObject: string }
  | { kind: 'compose'; bucket: string; object: string }
  | { kind: 'upload'; bucket: string }
  | { kind: 'download'; bucket: string; object: string; xml?: true }
  | { kind: 'xmlUpload'; bucket: string; object: string }
  | { kind: 'admin'; segments: string[] }
  | { kind: 'unknown' };

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw badRequest(`Invalid URL encoding: ${s}`);
  }
}

function objectRoute(bucket: string, rest: string, method: string): Route {
  if (method === 'POST') {
    let m = /^(.+?)\/(rewriteTo|copyTo)\/b\/([^/]+)\/o\/(.+)$/.exec(rest);
    if (m) {
      return {
        kind: 'copy',
        op: m[2] as 'rewriteTo' | 'copyTo',
        bucket,
        object: decode(m[1]!),
        destBucket: decode(m[3]!),
        destObject: decode(m[4]!),
      };
    }
    m = /^(.+?)\/moveTo\/o\/(.+)$/.exec(rest);
    if (m) return { kind: 'move', bucket, object: decode(m[1]!), destObject: decode(m[2]!) };
    m = /^(.+)\/compose$/.exec(rest);
    if (m) return { kind: 'compose', bucket, object: decode(m[1]!) };
  }
  return { kind: 'object', bucket, object: decode(rest) };
}

export function route(pathname: string, method: string): Route {
  let path = pathname.replace(/^\/storage\/v1(?=\/(upload|download)\/)/, '');
  if (path === '/_kiln' || path.startsWith('/_kiln/')) {
    return { kind: 'admin', segments: path.split('/').slice(2).filter(Boolean).map(decode) };
  }
  let m = /^(?:\/resumable)?\/upload\/storage\/v1\/b\/([^/]+)\/o\/?$/.exec(path);
  if (m) return { kind: 'upload', bucket: decode(m[1]!) };
  m = /^\/download\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(path);
  if (m) return { kind: 'download', bucket: decode(m[1]!), object: decode(m[2]!) };

  path = path.replace(/^\/storage\/v1(?=\/|$)/, '');
  if (path === '/b' || path === '/b/') return { kind: 'buckets' };
  m = /^\/b\/([^/]+)\/?$/.exec(path);
  if (m) return { kind: 'bucket', bucket: decode(m[1]!) };
  m = /^\/b\/([^/]+)\/storageLayout$/.exec(path);
  if (m) return { kind: 'storageLayout', bucket: decode(m[1]!) };
  m = /^\/b\/([^/]+)\/o\/?$/.exec(path);
  if (m) return { kind: 'objects', bucket: decode(m[1]!) };
  m = /^\/b\/([^/]+)\/o\/(.+)$/.exec(path);
  if (m) return objectRoute(decode(m[1]!), m[2]!, method);
  // XML-API style media URL, as produced by File#publicUrl(): /{bucket}/{object}
  m = /^\/([a-z0-9][a-z0-9._-]{1,220})\/(.+)$/.exec(pathname);
  if (m && (method === 'GET' || method === 'HEAD')) {
    return { kind: 'download', bucket: m[1]!, object: decode(m[2]!), xml: true };
  }
  if (m && method === 'PUT') return { kind: 'xmlUpload', bucket: m[1]!, object: decode(m[2]!) };
  return { kind: 'unknown' };
}
