import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { KilnError } from '../../../common/errors.js';
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

type EntryTypeName = ReadEntry['type'];

/** What each entry type of a tar stream is, for the refusal message; regular files are read, folders skipped. */
const KINDS: Partial<Record<EntryTypeName, string>> = {
  Link: 'a hard link',
  SymbolicLink: 'a symbolic link',
  CharacterDevice: 'a character device',
  BlockDevice: 'a block device',
  FIFO: 'a named pipe',
};
const FILE_TYPES = new Set<EntryTypeName>(['File', 'OldFile', 'ContiguousFile']);

/**
 * The regular files of a tar archive keyed by normalized relative path, parsed by node-tar (ustar, pax extended
 * headers, GNU long names, header checksums). Links, devices and names escaping the root are refused.
 */
export function readTar(tar: Uint8Array, limits: UnpackLimits = DEFAULT_LIMITS): Map<string, Uint8Array> {
  if (tar.every((x) => x === 0)) return new Map(); // an empty archive: only end-of-archive blocks
  const files = new Map<string, Uint8Array>();
  let total = 0;
  let failure: unknown;
  const refuse = (entry: ReadEntry): never => {
    const kind = KINDS[entry.type] ?? `of tar type "${entry.header.typeKey}"`;
    throw new KilnError('E_BAD_ARGUMENT', `archive entry "${entry.path}" is ${kind}`, {
      hint: 'Archive regular files only',
    });
  };
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry) => {
      const rawName = entry.path;
      const name = safeRelativePath(rawName);
      if (!FILE_TYPES.has(entry.type) && entry.type !== 'Directory' && entry.type !== 'GNUDumpDir') refuse(entry);
      if (!FILE_TYPES.has(entry.type) || name === '') {
        entry.resume(); // skipped (folders, the root): drained so the parser moves on
        return;
      }
      if (files.size + 1 > limits.maxEntries)
        throw new KilnError('E_BAD_ARGUMENT', `the archive has more than ${limits.maxEntries} files`);
      if (entry.size > limits.maxEntryBytes)
        throw new KilnError(
          'E_BAD_ARGUMENT',
          `archive entry "${rawName}" is ${entry.size} bytes, over the limit of ${limits.maxEntryBytes}`,
        );
      total += entry.size;
      if (total > limits.maxTotalBytes)
        throw new KilnError('E_BAD_ARGUMENT', `the archive unpacks to more than ${limits.maxTotalBytes} bytes`);
      if (files.has(name)) throw malformed(`"${name}" appears twice`);
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      entry.on('end', () => files.set(name, new Uint8Array(Buffer.concat(chunks))));
    },
  });
  parser.on('ignoredEntry', (entry: ReadEntry) => {
    if (!entry.meta) refuse(entry);
  });
  parser.on('error', (e: unknown) => (failure ??= e));
  try {
    parser.end(Buffer.from(tar.buffer, tar.byteOffset, tar.byteLength));
  } catch (e) {
    failure ??= e;
  }
  if (failure instanceof KilnError) throw failure;
  if (failure !== undefined) throw malformed(failure instanceof Error ? failure.message : String(failure));
  return files;
}
