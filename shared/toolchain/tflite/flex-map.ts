import { toReference } from 'flatbuffers/mjs/flexbuffers.js';
import { KilnError } from '../../common/errors.js';

/** A value inside a FlexBuffers buffer, as the flatbuffers package reads it. */
export type FlexValue = ReturnType<typeof toReference>;
export type FlexScalar = number | boolean | string | null;

/** The root map of FlexBuffers bytes, the format of TFLite custom op options. */
export interface FlexMap {
  /** The value under `key`, or undefined when the map has no such key. */
  get(key: string): FlexValue | undefined;
  /** The scalar under `key` (number, boolean, string or null), or undefined when the map has no such key. */
  scalar(key: string): FlexScalar | undefined;
}

const bad = (why: string): KilnError =>
  new KilnError('E_TFLITE_MALFORMED', `custom options are not a valid FlexBuffers map: ${why}`);

// The flatbuffers reader throws plain strings for lookups that do not apply and RangeErrors for offsets past the end.
const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function scalarOf(v: FlexValue, key: string): FlexScalar {
  if (v.isNull()) return null;
  if (v.isBool()) return v.boolValue();
  // numericValue() would read a float 0.0 as null: ask for the float or the int explicitly.
  if (v.isFloat()) return v.floatValue();
  if (v.isInt()) return Number(v.intValue());
  if (v.isString()) return v.stringValue();
  throw bad(`"${key}" is not a scalar`);
}

/** Opens FlexBuffers bytes (flatbuffers' reader) whose root must be a map; anything unreadable is E_TFLITE_MALFORMED. */
export function readFlexMap(bytes: Uint8Array): FlexMap {
  const buffer = bytes.slice().buffer;
  try {
    if (!toReference(buffer).isMap()) throw bad('the root is not a map');
  } catch (e) {
    throw e instanceof KilnError ? e : bad(reason(e));
  }
  const get = (key: string): FlexValue | undefined => {
    try {
      // A fresh root per lookup: the reader caches a 64-bit map length as a BigInt and then fails to mix it with
      // numbers on the next lookup. The typings only declare numeric indices, hence the cast for a key string.
      return toReference(buffer).get(key as unknown as number);
    } catch (e) {
      if (typeof e === 'string') return undefined; // no such key
      throw bad(reason(e));
    }
  };
  return {
    get,
    scalar: (key) => {
      const v = get(key);
      if (v === undefined) return undefined;
      try {
        return scalarOf(v, key);
      } catch (e) {
        throw e instanceof KilnError ? e : bad(reason(e));
      }
    },
  };
}
