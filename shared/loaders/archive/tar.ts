import { gunzipSync } from 'node:zlib';
import { KilnError } from '../../errors.js';
import { DEFAULT_LIMITS, type UnpackLimits } from '../limits.js';
import { safeRelativePath } from './safe-path.js';

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** A ustar/GNU/pax tar stream: checks the "ustar" magic at offset 257. */
export function isTar(bytes: Uint8Array): boolean {
  return bytes.length >= 512 && new TextDecoder().decode(bytes.subarray(257, 262)) === 'ustar';
}

const malformed = (why: string): KilnError =>
  new KilnError('E_BAD_ARGUMENT', `the tar archive is malformed: ${why}`, {
    hint: 'Re-create it with `tar czf model.tar.gz <folder>`',
  });

const text = (b: Uint8Array): string => {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end >= 0 ? b.subarray(0, end) : b);
};

function octal(b: Uint8Array): number {
  if (b[0]! & 0x80) {
    // GNU base-256 size
    let v = 0;
    for (let i = 1; i < b.length; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = text(b).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

/** Decompresses a .tar.gz (bounded by limits.maxTotalBytes) and reads it like {@link readTar}. */
export function readTarGz(bytes: Uint8Array, limits: UnpackLimits = DEFAULT_LIMITS): Map<string, Uint8Array> {
  let tar: Uint8Array;
  try {
    const out = gunzipSync(bytes, { maxOutputLength: limits.maxTotalBytes + 1024 * 1024 });
    tar = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    throw new KilnError('E_BAD_ARGUMENT', `cannot decompress the gzip stream: ${(e as Error).message}`, {
      hint: `An archive must unpack to at most ${limits.maxTotalBytes} bytes`,
    });
  }
  return readTar(tar, limits);
}

/**
 * The regular files of a tar archive keyed by normalized relative path. Links, devices and names escaping the root
 * are refused; pax `path` and GNU long names are honoured.
 */
export function readTar(tar: Uint8Array, limits: UnpackLimits = DEFAULT_LIMITS): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let p = 0;
  let total = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  while (p + 512 <= tar.length) {
    const h = tar.subarray(p, p + 512);
    if (h.every((x) => x === 0)) break;
    const size = octal(h.subarray(124, 136));
    const type = String.fromCharCode(h[156]!);
    const sum = octal(h.subarray(148, 156));
    let check = 0;
    for (let i = 0; i < 512; i++) check += i >= 148 && i < 156 ? 32 : h[i]!;
    if (check !== sum) throw malformed(`bad header checksum at byte ${p}`);
    const dataStart = p + 512;
    if (dataStart + size > tar.length) throw malformed(`entry at byte ${p} runs past the end`);
    const data = tar.subarray(dataStart, dataStart + size);
    p = dataStart + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = text(data);
      continue;
    }
    if (type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(new TextDecoder().decode(data));
      paxPath = m?.[1];
      continue;
    }
    if (type === 'g') continue;
    const prefix = text(h.subarray(345, 500));
    const rawName =
      longName ?? paxPath ?? (prefix ? `${prefix}/${text(h.subarray(0, 100))}` : text(h.subarray(0, 100)));
    longName = undefined;
    paxPath = undefined;
    const name = safeRelativePath(rawName);
    if (type === '5') continue;
    if (type !== '0' && type !== '\0' && type !== '7') {
      const kind = type === '1' ? 'a hard link' : type === '2' ? 'a symbolic link' : `of tar type "${type}"`;
      throw new KilnError('E_BAD_ARGUMENT', `archive entry "${rawName}" is ${kind}`, {
        hint: 'Archive regular files only',
      });
    }
    if (name === '') continue;
    if (files.size + 1 > limits.maxEntries)
      throw new KilnError('E_BAD_ARGUMENT', `the archive has more than ${limits.maxEntries} files`);
    if (size > limits.maxEntryBytes)
      throw new KilnError(
        'E_BAD_ARGUMENT',
        `archive entry "${rawName}" is ${size} bytes, over the limit of ${limits.maxEntryBytes}`,
      );
    total += size;
    if (total > limits.maxTotalBytes)
      throw new KilnError('E_BAD_ARGUMENT', `the archive unpacks to more than ${limits.maxTotalBytes} bytes`);
    if (files.has(name)) throw malformed(`"${name}" appears twice`);
    files.set(name, data.slice());
  }
  return files;
}
