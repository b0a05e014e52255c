import { inflateRawSync } from 'node:zlib';
import { KilnError } from '../../errors.js';
import { DEFAULT_LIMITS, type UnpackLimits } from '../limits.js';
import { safeRelativePath } from './safe-path.js';

const EOCD_SIG = 0x06054b50;
const CEN_SIG = 0x02014b50;
const LOC_SIG = 0x04034b50;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

const malformed = (why: string): KilnError =>
  new KilnError('E_BAD_ARGUMENT', `the zip archive is malformed: ${why}`, {
    hint: 'Re-create the archive with a standard zip tool',
  });

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/**
 * The files of a zip archive, in memory, keyed by normalized relative path. Directories are skipped; symlinks, names
 * that escape the root, encrypted entries, unknown compression and anything past `limits` are refused.
 */
export function readZip(bytes: Uint8Array, limits: UnpackLimits = DEFAULT_LIMITS): Map<string, Uint8Array> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (dv.getUint32(i, true) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw malformed('no end-of-central-directory record');
  const count = dv.getUint16(eocd + 10, true);
  const cdSize = dv.getUint32(eocd + 12, true);
  const cdOffset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdOffset === 0xffffffff) {
    throw new KilnError('E_BAD_ARGUMENT', 'zip64 archives are not supported', {
      hint: 'Use a .tar.gz for models over 4 GB',
    });
  }
  if (cdOffset + cdSize > bytes.length) throw malformed('central directory out of bounds');
  if (count > limits.maxEntries) {
    throw new KilnError(
      'E_BAD_ARGUMENT',
      `the zip archive has ${count} entries, more than the limit of ${limits.maxEntries}`,
    );
  }
  const files = new Map<string, Uint8Array>();
  let total = 0;
  let p = cdOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > bytes.length || dv.getUint32(p, true) !== CEN_SIG) throw malformed(`bad central directory entry ${n}`);
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const csize = dv.getUint32(p + 20, true);
    const usize = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    const madeBy = dv.getUint16(p + 4, true) >> 8;
    const extAttr = dv.getUint32(p + 38, true);
    const locOffset = dv.getUint32(p + 42, true);
    const rawName = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    const isDir = rawName.endsWith('/') || rawName.endsWith('\\');
    const name = safeRelativePath(rawName);
    if (madeBy === 3 && ((extAttr >>> 16) & S_IFMT) === S_IFLNK) {
      throw new KilnError('E_BAD_ARGUMENT', `archive entry "${rawName}" is a symbolic link`, {
        hint: 'Archive the files themselves, not links',
      });
    }
    if (isDir || name === '') continue;
    if (flags & 1)
      throw new KilnError('E_BAD_ARGUMENT', `archive entry "${rawName}" is encrypted`, {
        hint: 'Use an unencrypted archive',
      });
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
    if (locOffset + 30 > bytes.length || dv.getUint32(locOffset, true) !== LOC_SIG)
      throw malformed(`bad local header for "${rawName}"`);
    const dataStart = locOffset + 30 + dv.getUint16(locOffset + 26, true) + dv.getUint16(locOffset + 28, true);
    if (dataStart + csize > bytes.length) throw malformed(`data of "${rawName}" out of bounds`);
    const raw = bytes.subarray(dataStart, dataStart + csize);
    let data: Uint8Array;
    if (method === 0) {
      data = raw.slice();
    } else if (method === 8) {
      try {
        const out = inflateRawSync(raw, { maxOutputLength: Math.max(1, usize) });
        data = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      } catch (e) {
        throw malformed(`cannot inflate "${rawName}": ${(e as Error).message}`);
      }
    } else {
      throw new KilnError('E_BAD_ARGUMENT', `archive entry "${rawName}" uses zip compression method ${method}`, {
        hint: 'Use "stored" or "deflate" compression',
      });
    }
    if (data.length !== usize) throw malformed(`"${rawName}" unpacked to ${data.length} bytes, not ${usize}`);
    if (files.has(name)) throw malformed(`"${name}" appears twice`);
    files.set(name, data);
  }
  return files;
}
