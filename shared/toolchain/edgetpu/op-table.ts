import { OPS } from '../ops/catalog.js';
import type { EdgeTpuSupport } from '../ops/types.js';

export type { LimitId } from '../ops/types.js';

/**
 * The Edge TPU supported-operations table (docs/specs/edgetpu-compiler.md §3) as data, one row per TFLite builtin the compiler maps, derived
 * from the op catalog's `edgetpu` (shared/toolchain/ops/catalog.ts; field meanings in shared/toolchain/ops/types.ts EdgeTpuSupport). It
 * drives the per-op checks (classify.ts), the report's reasons and fixes, and the generated doc page
 * (docs/edgetpu-ops.md).
 */
export interface OpEntry extends EdgeTpuSupport {
  op: string;
}

export const OP_TABLE: readonly OpEntry[] = Object.entries(OPS).flatMap(([op, spec]) =>
  spec.edgetpu ? [{ op, ...spec.edgetpu }] : [],
);

export const OP_BY_NAME: ReadonlyMap<string, OpEntry> = new Map(OP_TABLE.map((e) => [e.op, e]));

/** What to use instead of a CPU-only op (spec §3 "frequently hit" list; the catalog's `cpuAlternative`). */
export const CPU_ONLY_ALTERNATIVES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(OPS).flatMap(([op, spec]) => (spec.cpuAlternative ? [[op, spec.cpuAlternative]] : [])),
);

/**
 * Highest op versions the TFLite interpreter embedded in compiler 16 (a TFLite ~2.5 build, spec §2.1(6)) registers
 * (the catalog's `embeddedMaxVersion`). A model using a newer version does not parse ("Didn't find op for builtin
 * opcode …"). Only ops whose 2.5 maxima we know are listed [I]; others are accepted at any version.
 */
export const EMBEDDED_TFLITE_MAX_VERSION: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(OPS).flatMap(([op, spec]) =>
    spec.embeddedMaxVersion !== undefined ? [[op, spec.embeddedMaxVersion]] : [],
  ),
);

/** Builtin codes above this are unknown to the embedded TFLite (later additions such as GELU) [I]. */
export const EMBEDDED_TFLITE_MAX_BUILTIN = 139;
