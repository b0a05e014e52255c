import { compileModel } from '../../edgetpu/compile-model.js';
import { toTflite } from '../../ir/to-tflite.js';
import { writeTflite } from '../../tflite/writer.js';
import { ARCHITECTURES, type Architecture } from '../architectures/index.js';
import { DEVICE_IDS, devicesFrom, FITTED, type DeviceId, type FittedFile } from './devices.js';
import { estimateLatency, type LatencyOptions } from './estimate.js';
import { graphMacs, latencyPlan, type LatencyPlan } from './plan.js';
import { PUBLISHED } from './published.js';

export interface ArchitecturePlan {
  model: string;
  macs: number;
  /** null when Kiln's compiler model rejects the rebuilt model (`failure` says why). */
  plan: LatencyPlan | null;
  failure?: string;
}

/** Rebuilds each architecture (random int8 weights), compiles it with Kiln's compiler model and extracts its plan. */
export function planArchitectures(archs: readonly Architecture[] = ARCHITECTURES): ArchitecturePlan[] {
  return archs.map((a) => {
    const ir = a.build();
    const bytes = writeTflite(toTflite(ir));
    const r = compileModel([{ path: `${a.model}.tflite`, bytes }]).models[0]!;
    const macs = graphMacs(ir.graph);
    if (r.failure) return { model: a.model, macs, plan: null, failure: r.failure.message };
    return { model: a.model, macs, plan: latencyPlan(ir.graph, r) };
  });
}

export interface LatencyRow {
  model: string;
  device: DeviceId;
  /** null when Kiln's compiler model does not compile the rebuilt architecture. */
  estimatedMs: number | null;
  /**
   * Estimate from the leave-one-architecture-out fit that never saw this architecture (fitted.json `heldOut`); null
   * when there is no estimate or no held-out fit for it. The honest figure for models outside the published table.
   */
  heldOutMs: number | null;
  publishedMs: number;
  estimate: true;
  basis: string;
}

/** One row per (architecture, device) with a published figure. */
export function latencyRows(
  plans: readonly ArchitecturePlan[],
  o: Omit<LatencyOptions, 'device'> & {
    devices?: Partial<Record<DeviceId, LatencyOptions['device']>>;
    /** Fitted constants with their held-out fits (default: the committed fitted.json). */
    fitted?: FittedFile;
  } = {},
): LatencyRow[] {
  const fitted = o.fitted ?? FITTED;
  const rows: LatencyRow[] = [];
  for (const p of plans) {
    const published = PUBLISHED.find((r) => r.model === p.model);
    for (const device of DEVICE_IDS) {
      const pub = published?.ms[device];
      if (pub === undefined) continue;
      const dev = o.devices?.[device];
      const est = p.plan ? estimateLatency(p.plan, device, { ...o, ...(dev ? { device: dev } : {}) }) : null;
      const held = fitted.heldOut[p.model];
      const heldEst =
        p.plan && held
          ? estimateLatency(p.plan, device, { ...o, chip: held.chip, device: devicesFrom(held)[device] })
          : null;
      rows.push({
        model: p.model,
        device,
        estimatedMs: est ? Math.round(est.estimatedMs * 100) / 100 : null,
        heldOutMs: heldEst ? Math.round(heldEst.estimatedMs * 100) / 100 : null,
        publishedMs: pub,
        estimate: true,
        basis: est
          ? est.basis
          : `not estimated: Kiln's compiler model rejects the rebuilt model (${p.failure ?? 'unknown'})`,
      });
    }
  }
  return rows;
}

/** |estimated − published| / published, for rows that have an estimate. */
export const relativeError = (r: Pick<LatencyRow, 'estimatedMs' | 'publishedMs'>): number | null =>
  r.estimatedMs === null ? null : Math.abs(r.estimatedMs - r.publishedMs) / r.publishedMs;

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function medianError(rows: readonly LatencyRow[]): number {
  return median(rows.map(relativeError).filter((e): e is number => e !== null));
}

/** |held-out estimate − published| / published. */
export const heldOutError = (r: Pick<LatencyRow, 'heldOutMs' | 'publishedMs'>): number | null =>
  r.heldOutMs === null ? null : Math.abs(r.heldOutMs - r.publishedMs) / r.publishedMs;

/** Median in-sample and held-out error per device (devices with at least one row), and over all rows. */
export function errorSummary(
  rows: readonly LatencyRow[],
): { device: DeviceId | 'all'; rows: number; inSample: number; heldOut: number }[] {
  const of = (rs: readonly LatencyRow[], device: DeviceId | 'all') => ({
    device,
    rows: rs.filter((r) => r.estimatedMs !== null).length,
    inSample: medianError(rs),
    heldOut: median(rs.map(heldOutError).filter((e): e is number => e !== null)),
  });
  const out = DEVICE_IDS.map((d) => rows.filter((r) => r.device === d))
    .filter((rs) => rs.length > 0)
    .map((rs) => of(rs, rs[0]!.device));
  return [...out, of(rows, 'all')];
}
