import AdmZip from 'adm-zip';
import { KilnError } from '../../../common/errors.js';
import { DEFAULT_LIMITS, type UnpackLimits } from '../limits.js';
import { safeRelativePath } from './safe-path.js';

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const UNIX = 3;

const malformed = (why: string): KilnError =>
  new KilnError('E_BAD_ARGUMENT', `the zip archive is malformed: ${why}`, {
    hint: 'Re-create the archive with a standard zip tool',
  });

const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** The archive's entries as adm-zip reads its central directory (zip64 included), with parse failures named. */
function entriesOf(bytes: Uint8Array, limits: UnpackLimits): AdmZip.IZipEntry[] {
  let zip: AdmZip;
  try {
    zip = new AdmZip(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { noSort: true });
  } catch (e) {
    throw malformed(reason(e));
  }
  const count = zip.getEntryCount();
  if (count > limits.maxEntries) {
    throw new KilnError(
      'E_BAD_ARGUMENT',
      `the zip archive has ${count} entries, more than the limit of ${limits.maxEntries}`,
    );
  }
  try {
    return zip.getEntries();
  } catch (e) {
    throw malformed(reason(e));
  }
}

/**
 * The files of a zip archive, in memory, keyed by normalized relative path. Directories are skipped; symlinks, names
 * that escape the root, encrypted entries, unknown compression, CRC mismatches and anything past `limits` are refused.
 */
export function readZip(bytes: Uint8Array, limits: UnpackLimits = DEFAULT_LIMITS): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let total = 0;
  for (const entry of entriesOf(bytes, limits)) {
    const h = entry.header;
    const rawName = entry.entryName;
    const name = safeRelativePath(rawName);
    if (h.made >> 8 === UNIX && ((h.attr >>> 16) & S_IFMT) === S_IFLNK) {
      throw new KilnError('E_BAD_ARGUMENT', `archive entry "${rawName}" is a symbolic link`, {
        hint: 'Archive the files themselves, not links',
      });
    }
    if (entry.isDirectory || name === '') continue;
    if (h.encrypted)
      throw new KilnError('E_BAD_ARGUMENT', `archive entry "${rawName}" is encrypted`, {
        hint: 'Use an unencrypted archive',
      });
    if (h.method !== 0 && h.method !== 8) {
      throw new KilnError('E_BAD_ARGUMENT', `archive entry "${rawName}" uses zip compression method ${h.method}`, {
        hint: 'Use "stored" or "deflate" compression',
      });
    }
    const usize = h.size;
    const csize = h.compressedSize;
    if (usize > limits.maxEntryBytes) {
      throw new KilnError(
        'E_BAD_ARGUMENT',
        `archive entry "${rawName}" unpacks to ${usize} bytes, over the limit of ${limits.maxEntryBytes}`,
      );
    }
    if (csize > 0 && usize / csize > limits.maxCompressionRatio) {
      throw new KilnError(
        'E_BAD_ARGUMENT',
        `archive entry "${rawName}" has a compression ratio of ${Math.round(usize / csize)}:1, a likely zip bomb`,
      );
    }
    total += usize;
    if (total > limits.maxTotalBytes) {
      throw new KilnError('E_BAD_ARGUMENT', `the archive unpacks to more than ${limits.maxTotalBytes} bytes`);
    }
    let data: Buffer;
    try {
      data = entry.getData();
    } catch (e) {
      const why = reason(e);
      if (/crc/i.test(why)) {
        throw new KilnError(
          'E_BAD_ARGUMENT',
          `archive entry "${rawName}" fails its CRC-32 check: the archive is corrupted`,
          { hint: 'Download or copy the archive again, or re-create it with a standard zip tool' },
        );
      }
      throw malformed(`cannot unpack "${rawName}": ${why}`);
    }
    if (data.length !== usize) throw malformed(`"${rawName}" unpacked to ${data.length} bytes, not ${usize}`);
    if (files.has(name)) throw malformed(`"${name}" appears twice`);
    files.set(name, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return files;
}
