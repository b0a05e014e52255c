import { ByteBuffer } from 'flatbuffers';
import { toReference } from 'flatbuffers/mjs/flexbuffers.js';

/** What an `edgetpu-custom-op` carries: its FlexBuffer options map and the DarwiNN package header inside. */
export interface EdgeTpuCustomOpInfo {
  optionsBytes: number;
  /** Custom-op data version (key "1"). */
  dataVersion: number | null;
  /** Serialized DarwiNN package (key "4"), file identifier DWN1. */
  packageBytes: number;
  packageIdentifier: string | null;
  minRuntimeVersion: number | null;
  compilerVersion: string | null;
  /** Chip enum per executable (key "6"). */
  chips: number[];
}

/**
 * Reads the FlexBuffer map of an edgetpu-custom-op (libedgetpu custom_op_data.cc keys) and the root fields of the
 * DarwiNN `Package` flatbuffer it holds (min_runtime_version = field 0, compiler_version = field 4).
 */
export function describeEdgeTpuCustomOp(options: Uint8Array): EdgeTpuCustomOpInfo {
  const info: EdgeTpuCustomOpInfo = {
    optionsBytes: options.length,
    dataVersion: null,
    packageBytes: 0,
    packageIdentifier: null,
    minRuntimeVersion: null,
    compilerVersion: null,
    chips: [],
  };
  if (options.length === 0) return info;
  try {
    const copy = options.slice();
    const map = toReference(copy.buffer);
    if (!map.isMap()) return info;
    // Map lookup by key string (the typings only declare numeric indices).
    const at = (key: string) => map.get(key as unknown as number);
    const version = at('1');
    if (version.isNumber()) info.dataVersion = Number(version.numericValue());
    const chips = at('6');
    if (chips.isVector()) info.chips = (chips.toObject() as unknown[]).map(Number);
    const pkg = at('4');
    if (pkg.isString() || pkg.isBlob()) {
      const bytes = packageBytesOf(copy, pkg.length());
      if (bytes) Object.assign(info, describePackage(bytes));
    }
  } catch {
    // Not a FlexBuffer map: report only the size.
  }
  return info;
}

/** Locates the package blob by its DWN1 identifier (bytes 4–7 of the blob), the way Coral's tools do. */
function packageBytesOf(options: Uint8Array, length: number): Uint8Array | null {
  for (let i = 4; i + 4 <= options.length; i++) {
    if (options[i] === 0x44 && options[i + 1] === 0x57 && options[i + 2] === 0x4e && options[i + 3] === 0x31) {
      return options.subarray(i - 4, Math.min(options.length, i - 4 + length));
    }
  }
  return null;
}

function describePackage(
  bytes: Uint8Array,
): Pick<EdgeTpuCustomOpInfo, 'packageBytes' | 'packageIdentifier' | 'minRuntimeVersion' | 'compilerVersion'> {
  const bb = new ByteBuffer(bytes);
  const root = bb.readInt32(0);
  const field = (i: number): number => {
    const vtable = root - bb.readInt32(root);
    const vlen = bb.readInt16(vtable);
    const o = 4 + 2 * i;
    return o < vlen ? bb.readInt16(vtable + o) : 0;
  };
  const f0 = field(0);
  const f4 = field(4);
  let compilerVersion: string | null = null;
  if (f4) {
    const s = root + f4 + bb.readInt32(root + f4);
    const len = bb.readInt32(s);
    if (len >= 0 && s + 4 + len <= bytes.length)
      compilerVersion = new TextDecoder().decode(bytes.subarray(s + 4, s + 4 + len));
  }
  return {
    packageBytes: bytes.length,
    packageIdentifier: String.fromCharCode(bytes[4]!, bytes[5]!, bytes[6]!, bytes[7]!),
    minRuntimeVersion: f0 ? bb.readInt32(root + f0) : null,
    compilerVersion,
  };
}
