/**
 * Content hashes as Cloud Storage reports them: MD5 and CRC32C (Castagnoli), both base64-encoded;
 * CRC32C is the big-endian 4-byte value, computed by the Cloud Storage client's own CRC32C.
 */
import { CRC32C } from '@google-cloud/storage';
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export interface Digests {
  md5Hash: string;
  crc32c: string;
  size: number;
}

/** Computes MD5 + CRC32C + size over a stream of chunks. */
export class ObjectHasher {
  readonly #md5: Hash = createHash('md5');
  readonly #crc = new CRC32C();
  #size = 0;

  update(chunk: Uint8Array): void {
    this.#md5.update(chunk);
    this.#crc.update(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.#size += chunk.length;
  }

  digest(): Digests {
    return { md5Hash: this.#md5.digest('base64'), crc32c: this.#crc.toString(), size: this.#size };
  }
}

export function digestBuffer(data: Uint8Array): Digests {
  const h = new ObjectHasher();
  h.update(data);
  return h.digest();
}

export async function digestFile(path: string): Promise<Digests> {
  const h = new ObjectHasher();
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest();
}

/** Client-declared hashes, e.g. from `x-goog-hash: crc32c=...,md5=...` or upload metadata. */
export interface ExpectedHashes {
  md5Hash?: string;
  crc32c?: string;
}

export function parseGoogHash(header: string | string[] | undefined): ExpectedHashes {
  const out: ExpectedHashes = {};
  if (header === undefined) return out;
  const values = Array.isArray(header) ? header : [header];
  for (const value of values) {
    for (const part of value.split(',')) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      const key = part.slice(0, eq).trim().toLowerCase();
      const val = part.slice(eq + 1).trim();
      if (key === 'md5') out.md5Hash = val;
      else if (key === 'crc32c') out.crc32c = val;
    }
  }
  return out;
}

export function mergeExpected(...sources: ExpectedHashes[]): ExpectedHashes {
  const out: ExpectedHashes = {};
  for (const s of sources) {
    if (s.md5Hash !== undefined) out.md5Hash = s.md5Hash;
    if (s.crc32c !== undefined) out.crc32c = s.crc32c;
  }
  return out;
}

/** Returns a GCS-style message describing the first mismatch, or undefined when all declared hashes match. */
export function checkExpected(actual: Digests, expected: ExpectedHashes): string | undefined {
  if (expected.md5Hash !== undefined && expected.md5Hash !== actual.md5Hash) {
    return `Provided MD5 hash "${expected.md5Hash}" doesn't match calculated MD5 hash "${actual.md5Hash}".`;
  }
  if (expected.crc32c !== undefined && expected.crc32c !== actual.crc32c) {
    return `Provided CRC32C "${expected.crc32c}" doesn't match calculated CRC32C "${actual.crc32c}".`;
  }
  return undefined;
}
