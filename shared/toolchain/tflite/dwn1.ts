import { CheckedByteBuffer } from './checked-byte-buffer.js';
import { customCodeOf, EDGETPU_CUSTOM_CODE, type TfliteModel } from './model.js';

/**
 * Reader for the DarwiNN package (`DWN1`, libedgetpu executable.fbs) that the real compiler stores in the custom
 * options of each `edgetpu-custom-op` (docs/specs/edgetpu-compiler.md §5.3/§5.4). Read-only: Kiln never writes one. Used to compare Kiln's
 * memory prediction with what the real compiler produced.
 */
export const EXECUTABLE_TYPES = ['STAND_ALONE', 'PARAMETER_CACHING', 'EXECUTION_ONLY'] as const;
export type ExecutableType = (typeof EXECUTABLE_TYPES)[number];

export interface DwnLayer {
  name: string;
  sizeBytes: number;
  y: number;
  x: number;
  z: number;
  dataType: number;
}

export interface DwnExecutable {
  name: string;
  type: ExecutableType;
  parameterBytes: number;
  instructionBytes: number;
  usedNarrowMemoryBytesPerTile: number;
  parameterCachingToken: bigint;
  estimatedCycles: bigint;
  inputLayers: DwnLayer[];
  outputLayers: DwnLayer[];
}

export interface DwnPackage {
  minRuntimeVersion: number;
  compilerVersion: string;
  virtualChipId: number;
  executables: DwnExecutable[];
}

/** Slot i of a table → field offset (0 = absent). */
function slot(bb: CheckedByteBuffer, table: number, i: number): number {
  return bb.__offset(table, 4 + 2 * i);
}
function int32(bb: CheckedByteBuffer, table: number, i: number, dflt = 0): number {
  const o = slot(bb, table, i);
  return o ? bb.readInt32(table + o) : dflt;
}
function int16(bb: CheckedByteBuffer, table: number, i: number, dflt = 0): number {
  const o = slot(bb, table, i);
  return o ? bb.readInt16(table + o) : dflt;
}
function uint64(bb: CheckedByteBuffer, table: number, i: number): bigint {
  const o = slot(bb, table, i);
  return o ? bb.readUint64(table + o) : 0n;
}
function str(bb: CheckedByteBuffer, table: number, i: number): string {
  const o = slot(bb, table, i);
  return o ? String(bb.__string(table + o)) : '';
}
function vecLen(bb: CheckedByteBuffer, table: number, i: number): number {
  const o = slot(bb, table, i);
  return o ? bb.__vector_len(table + o) : 0;
}
function bytesField(bb: CheckedByteBuffer, table: number, i: number): Uint8Array {
  const o = slot(bb, table, i);
  if (!o) return new Uint8Array(0);
  return bb.byteView(bb.__vector(table + o), bb.__vector_len(table + o));
}
function tables(bb: CheckedByteBuffer, table: number, i: number): number[] {
  const o = slot(bb, table, i);
  if (!o) return [];
  const start = bb.__vector(table + o);
  const n = bb.__vector_len(table + o);
  return Array.from({ length: n }, (_, k) => bb.__indirect(start + 4 * k));
}
function root(bb: CheckedByteBuffer): number {
  return bb.readInt32(bb.position()) + bb.position();
}

function layer(bb: CheckedByteBuffer, t: number): DwnLayer {
  return {
    name: str(bb, t, 0),
    sizeBytes: int32(bb, t, 1),
    y: int32(bb, t, 2),
    x: int32(bb, t, 3),
    z: int32(bb, t, 4),
    dataType: int16(bb, t, 6),
  };
}

function executable(bytes: Uint8Array): DwnExecutable {
  const bb = new CheckedByteBuffer(bytes);
  const t = root(bb);
  const bitstreams = tables(bb, t, 5);
  return {
    name: str(bb, t, 1),
    type: EXECUTABLE_TYPES[int16(bb, t, 13)] ?? 'STAND_ALONE',
    parameterBytes: vecLen(bb, t, 6),
    instructionBytes: bitstreams.reduce((s, b) => s + vecLen(bb, b, 0), 0),
    usedNarrowMemoryBytesPerTile: int32(bb, t, 12),
    parameterCachingToken: uint64(bb, t, 14),
    estimatedCycles: uint64(bb, t, 16),
    inputLayers: tables(bb, t, 8).map((l) => layer(bb, l)),
    outputLayers: tables(bb, t, 9).map((l) => layer(bb, l)),
  };
}

/** Decodes one package blob (it starts with its root offset; `DWN1` sits at bytes 4–7). */
export function readDwnPackage(blob: Uint8Array): DwnPackage {
  const bb = new CheckedByteBuffer(blob);
  const p = root(bb);
  const multi = bytesField(bb, p, 1);
  const executables: DwnExecutable[] = [];
  if (multi.length > 0) {
    const mb = new CheckedByteBuffer(multi);
    const m = root(mb);
    const o = slot(mb, m, 0);
    if (o) {
      const start = mb.__vector(m + o);
      const n = mb.__vector_len(m + o);
      for (let k = 0; k < n; k++) {
        const s = mb.__indirect(start + 4 * k);
        executables.push(executable(mb.byteView(s + 4, mb.readInt32(s))));
      }
    }
  }
  return {
    minRuntimeVersion: int32(bb, p, 0),
    compilerVersion: str(bb, p, 4),
    virtualChipId: int32(bb, p, 5),
    executables,
  };
}

/** Finds the package inside an edgetpu-custom-op's custom options (search for `DWN1`, back up 4 bytes). */
export function findDwnPackage(customOptions: Uint8Array): Uint8Array | null {
  for (let i = 4; i + 4 <= customOptions.length; i++) {
    if (
      customOptions[i] === 0x44 &&
      customOptions[i + 1] === 0x57 &&
      customOptions[i + 2] === 0x4e &&
      customOptions[i + 3] === 0x31
    ) {
      return customOptions.subarray(i - 4);
    }
  }
  return null;
}

/** Every package of a compiled model, one per edgetpu-custom-op in subgraph 0, in execution order. */
export function packagesOf(model: TfliteModel): DwnPackage[] {
  const out: DwnPackage[] = [];
  for (const op of model.subgraphs[0]?.operators ?? []) {
    const code = model.operatorCodes[op.opcodeIndex];
    if (!code || customCodeOf(code) !== EDGETPU_CUSTOM_CODE) continue;
    const blob = findDwnPackage(Uint8Array.from(op.customOptions));
    if (blob) out.push(readDwnPackage(blob));
  }
  return out;
}

/** Parameter bytes by role: cached (PARAMETER_CACHING executables) and streamed (EXECUTION_ONLY / STAND_ALONE). */
export function parameterBytes(pkg: DwnPackage): { cached: number; streamed: number } {
  let cached = 0;
  let streamed = 0;
  for (const e of pkg.executables) {
    if (e.type === 'PARAMETER_CACHING') cached += e.parameterBytes;
    else streamed += e.parameterBytes;
  }
  return { cached, streamed };
}
