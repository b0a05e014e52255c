import { readFlexMap } from '../tflite/flex-map.js';
import { findDwnPackage, parameterBytes, readDwnPackage } from '../tflite/dwn1.js';

/** What an `edgetpu-custom-op` carries: its FlexBuffer options map and the DarwiNN package inside. */
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
  /** Executables in the package, and the parameter bytes cached on chip vs streamed on every inference. */
  executables: string[];
  cachedParameterBytes: number | null;
  streamedParameterBytes: number | null;
}

/** Reads the FlexBuffer map of an edgetpu-custom-op (libedgetpu custom_op_data.cc keys) and its DarwiNN package. */
export function describeEdgeTpuCustomOp(options: Uint8Array): EdgeTpuCustomOpInfo {
  const info: EdgeTpuCustomOpInfo = {
    optionsBytes: options.length,
    dataVersion: null,
    packageBytes: 0,
    packageIdentifier: null,
    minRuntimeVersion: null,
    compilerVersion: null,
    chips: [],
    executables: [],
    cachedParameterBytes: null,
    streamedParameterBytes: null,
  };
  if (options.length === 0) return info;
  try {
    const map = readFlexMap(options);
    const version = map.scalar('1');
    if (typeof version === 'number') info.dataVersion = version;
    const chips = map.get('6');
    if (chips?.isVector()) info.chips = (chips.toObject() as unknown[]).map(Number);
    const pkg = map.get('4');
    if (pkg?.isString() || pkg?.isBlob()) info.packageBytes = pkg.length();
  } catch {
    // Not a FlexBuffer map: the package is still found by its identifier below.
  }
  const blob = findDwnPackage(options);
  if (!blob) return info;
  info.packageIdentifier = 'DWN1';
  if (info.packageBytes === 0) info.packageBytes = blob.length;
  try {
    const pkg = readDwnPackage(blob.subarray(0, info.packageBytes));
    info.minRuntimeVersion = pkg.minRuntimeVersion;
    info.compilerVersion = pkg.compilerVersion;
    info.executables = pkg.executables.map((e) => e.type);
    const bytes = parameterBytes(pkg);
    info.cachedParameterBytes = bytes.cached;
    info.streamedParameterBytes = bytes.streamed;
  } catch {
    // A damaged package: report what the options map says.
  }
  return info;
}
