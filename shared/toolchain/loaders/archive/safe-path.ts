import { KilnError } from '../../../common/errors.js';

/**
 * The normalized relative path of an archive entry or a referenced file, or a refusal when the name could escape the
 * extraction root (zip-slip): absolute paths, drive letters, `..` segments, NUL bytes. Backslashes count as separators.
 * Returns '' for the root itself.
 */
export function safeRelativePath(name: string, what = 'archive entry'): string {
  const bad = (why: string): KilnError =>
    new KilnError('E_BAD_ARGUMENT', `${what} "${name}" ${why}`, {
      hint: 'Repack the model with plain relative paths inside one folder',
    });
  if (name.includes('\0')) throw bad('contains a NUL byte');
  const unified = name.replace(/\\/g, '/');
  if (unified.startsWith('/')) throw bad('is an absolute path');
  if (/^[a-zA-Z]:/.test(unified)) throw bad('names a drive');
  const parts: string[] = [];
  for (const seg of unified.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') throw bad('climbs out of the archive with ".."');
    parts.push(seg);
  }
  return parts.join('/');
}
