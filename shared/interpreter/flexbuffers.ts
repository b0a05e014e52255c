import { KilnError } from '../errors.js';

/** FlexBuffers value types used by TFLite custom options (a map of scalars). */
const T = {
  NULL: 0,
  INT: 1,
  UINT: 2,
  FLOAT: 3,
  KEY: 4,
  STRING: 5,
  INDIRECT_INT: 6,
  INDIRECT_UINT: 7,
  INDIRECT_FLOAT: 8,
  MAP: 9,
  BOOL: 26,
} as const;

export type FlexScalar = number | boolean | string | null;

const bad = (why: string): KilnError =>
  new KilnError('E_TFLITE_MALFORMED', `custom options are not a valid FlexBuffers map: ${why}`);

/** Reads a FlexBuffers root map of scalars (the format of TFLite custom op options) into a plain object. */
export function readFlexMap(buf: Uint8Array): Record<string, FlexScalar> {
  if (buf.length < 3) throw bad('too short');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const check = (pos: number, n: number): void => {
    if (pos < 0 || pos + n > buf.length) throw bad(`offset ${pos} is out of bounds`);
  };
  const uint = (pos: number, w: number): number => {
    check(pos, w);
    if (w === 1) return dv.getUint8(pos);
    if (w === 2) return dv.getUint16(pos, true);
    if (w === 4) return dv.getUint32(pos, true);
    return Number(dv.getBigUint64(pos, true));
  };
  const int = (pos: number, w: number): number => {
    check(pos, w);
    if (w === 1) return dv.getInt8(pos);
    if (w === 2) return dv.getInt16(pos, true);
    if (w === 4) return dv.getInt32(pos, true);
    return Number(dv.getBigInt64(pos, true));
  };
  const float = (pos: number, w: number): number => {
    check(pos, w);
    if (w === 4) return dv.getFloat32(pos, true);
    if (w === 8) return dv.getFloat64(pos, true);
    throw bad(`float of width ${w}`);
  };
  const cstr = (pos: number): string => {
    let end = pos;
    while (end < buf.length && buf[end] !== 0) end++;
    return new TextDecoder().decode(buf.subarray(pos, end));
  };
  const value = (pos: number, parentWidth: number, packed: number): FlexScalar => {
    const type = packed >> 2;
    const width = 1 << (packed & 3);
    switch (type) {
      case T.NULL:
        return null;
      case T.INT:
        return int(pos, parentWidth);
      case T.UINT:
        return uint(pos, parentWidth);
      case T.FLOAT:
        return float(pos, parentWidth);
      case T.BOOL:
        return uint(pos, parentWidth) !== 0;
      case T.INDIRECT_INT:
        return int(pos - uint(pos, parentWidth), width);
      case T.INDIRECT_UINT:
        return uint(pos - uint(pos, parentWidth), width);
      case T.INDIRECT_FLOAT:
        return float(pos - uint(pos, parentWidth), width);
      case T.STRING:
      case T.KEY:
        return cstr(pos - uint(pos, parentWidth));
      default:
        throw bad(`unsupported value type ${type}`);
    }
  };
  const rootWidth = buf[buf.length - 1]!;
  const rootPacked = buf[buf.length - 2]!;
  const rootPos = buf.length - 2 - rootWidth;
  if (rootPacked >> 2 !== T.MAP) throw bad(`the root is of type ${rootPacked >> 2}, not a map`);
  const map = rootPos - uint(rootPos, rootWidth);
  const bw = 1 << (rootPacked & 3);
  const len = uint(map - bw, bw);
  const keysPos = map - 3 * bw - 0;
  const keysVec = keysPos - uint(keysPos, bw);
  const keysWidth = uint(map - 2 * bw, bw);
  const out: Record<string, FlexScalar> = {};
  for (let i = 0; i < len; i++) {
    const kp = keysVec + i * keysWidth;
    const key = cstr(kp - uint(kp, keysWidth));
    const vpos = map + i * bw;
    check(map + len * bw + i, 1);
    out[key] = value(vpos, bw, buf[map + len * bw + i]!);
  }
  return out;
}
