import * as jsfive from 'jsfive';
import { KilnError } from '../../../common/errors.js';
import type { HostTensor } from '../tensor.js';

/**
 * A read-only view of an HDF5 file (Keras .h5 models and .keras weights) over the jsfive reader. Strings come back
 * without the NUL padding of fixed-length HDF5 strings; numeric datasets as float32/int32 host tensors.
 */
export class H5File {
  private readonly file: jsfive.File;

  constructor(
    bytes: Uint8Array,
    readonly label: string,
  ) {
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    try {
      this.file = new jsfive.File(ab, label);
    } catch (e) {
      // jsfive throws strings or bare objects as well as Errors: report whatever it said, or that it said nothing.
      const why = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
      throw new KilnError('E_BAD_ARGUMENT', `${label} is not a readable HDF5 file${why ? `: ${why}` : ''}`, {
        hint: 'Save the model again with model.save("model.h5") (Keras), or upload a SavedModel or .keras file',
      });
    }
  }

  /** The group or dataset at `path` ('' or '/' for the root), or undefined. */
  node(path: string): jsfive.Group | jsfive.Dataset | undefined {
    if (path === '' || path === '/') return this.file;
    try {
      return this.file.get(path);
    } catch {
      return undefined;
    }
  }

  keys(path: string): string[] {
    const n = this.node(path) as jsfive.Group | undefined;
    try {
      return n && Array.isArray(n.keys) ? [...n.keys] : [];
    } catch {
      return [];
    }
  }

  /** A string (or string list) attribute, NUL padding removed; bytes decoded as UTF-8. */
  attrString(path: string, name: string): string | undefined {
    const v = this.attr(path, name);
    if (v === undefined) return undefined;
    return cleanString(Array.isArray(v) ? v[0] : v);
  }

  attrStrings(path: string, name: string): string[] | undefined {
    const v = this.attr(path, name);
    if (v === undefined) return undefined;
    return (Array.isArray(v) ? v : [v]).map(cleanString);
  }

  private attr(path: string, name: string): unknown {
    const n = this.node(path);
    if (!n) return undefined;
    try {
      return n.attrs[name];
    } catch (e) {
      throw new KilnError(
        'E_BAD_ARGUMENT',
        `${this.label}: cannot read attribute ${name} of /${path}: ${(e as Error).message}`,
      );
    }
  }

  /** A numeric dataset as a float32 (or int32) host tensor. */
  dataset(path: string): HostTensor {
    const n = this.node(path) as jsfive.Dataset | undefined;
    if (!n || !Array.isArray(n.shape)) throw new KilnError('E_BAD_ARGUMENT', `${this.label}: no dataset /${path}`);
    const dt = typeof n.dtype === 'string' ? n.dtype : JSON.stringify(n.dtype);
    let value: ArrayLike<number | bigint | string>;
    try {
      value = n.value;
    } catch (e) {
      throw new KilnError(
        'E_BAD_ARGUMENT',
        `${this.label}: cannot read dataset /${path} (${dt}): ${(e as Error).message}`,
      );
    }
    const shape = [...n.shape];
    if (/^[<>|]?f[248]$/.test(dt)) {
      return { dtype: 'float32', shape, data: new Uint8Array(Float32Array.from(value as ArrayLike<number>).buffer) };
    }
    if (/^[<>|]?[iu][1248]$/.test(dt)) {
      return {
        dtype: 'int32',
        shape,
        data: new Uint8Array(Int32Array.from(value as ArrayLike<number>, (x) => Number(x)).buffer),
      };
    }
    throw new KilnError('E_UNSUPPORTED_TYPE', `${this.label}: dataset /${path} has type ${dt}`, {
      hint: 'Kiln reads numeric weights only',
    });
  }
}

function cleanString(v: unknown): string {
  if (v instanceof Uint8Array) return new TextDecoder().decode(v).replace(/\0+$/, '');
  return String(v).replace(/\0+$/, '');
}
