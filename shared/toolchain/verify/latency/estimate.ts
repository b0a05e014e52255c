import { CHIP, DEVICES, type ChipConstants, type DeviceConstants, type DeviceId } from './devices.js';
import type { LatencyPlan } from './plan.js';

export interface LatencyOptions {
  /** Kiln interpreter wall time per CPU op (op index → ms), scaled by the device's interpreterScale when given. */
  interpreterMs?: ReadonlyMap<number, number>;
  /** USB runtime build: 'max' (500 MHz, as the published benchmarks) or 'std' (libedgetpu1-std, 250 MHz). */
  runtime?: 'max' | 'std';
  /** First inference (or after switching models): the cached parameters are uploaded too. */
  firstInvoke?: boolean;
  /** Constants to use instead of the fitted tables (calibration). */
  chip?: ChipConstants;
  device?: DeviceConstants;
}

export interface LatencyEstimate {
  estimate: true;
  device: DeviceId;
  estimatedMs: number;
  /** What the figure is made of, in words. */
  basis: string;
  breakdown: {
    fixedMs: number;
    transferMs: number;
    computeMs: number;
    streamMs: number;
    cpuMs: number;
    switchMs: number;
    firstInvokeMs: number;
  };
}

const MB = 1e6;

/**
 * Kiln's Edge TPU latency model (docs/specs/edgetpu-compiler.md §10.4), a pure function of the compile plan:
 *
 *   T = T_fixed + (in + out bytes)/BW_link + max(T_compute, streamed bytes/BW_link) + Σ T_cpu + switches · T_switch
 *   T_compute = Σ_class padded MACs/(4096 · f_clk · u_class) + elements/(e · f_clk) + n_ops · t_op
 *
 * CPU ops cost their MACs and elements at the host's calibrated rates, or their interpreter time × interpreterScale.
 */
export function estimateLatency(plan: LatencyPlan, deviceId: DeviceId, o: LatencyOptions = {}): LatencyEstimate {
  const d = o.device ?? DEVICES[deviceId];
  const chip = o.chip ?? CHIP;
  const clockHz = (o.runtime === 'std' && (deviceId === 'usb3' || deviceId === 'usb2') ? 250 : d.clockMHz) * 1e6;
  const cyclesMs = (cycles: number): number => (cycles / clockHz) * 1000;
  const mac =
    plan.macs.conv / chip.utilisation.conv +
    plan.macs.depthwise / chip.utilisation.depthwise +
    plan.macs.fc / chip.utilisation.fc;
  const computeMs =
    plan.tpuOps === 0
      ? 0
      : cyclesMs(mac / chip.macsPerCycle) +
        cyclesMs(plan.tpuElements / chip.elementsPerCycle) +
        (plan.tpuOps * d.perOpUs) / 1000;
  const streamMs = (plan.streamedBytes / (d.linkMBps * MB)) * 1000;
  const transferMs = plan.tpuOps === 0 ? 0 : ((plan.inputBytes + plan.outputBytes) / (d.linkMBps * MB)) * 1000;
  let timed = 0;
  const cpuMs = plan.cpuOps.reduce((s, op) => {
    const t = o.interpreterMs?.get(op.index);
    if (t !== undefined) {
      timed++;
      return s + t * d.interpreterScale;
    }
    return s + (op.macs / 1e9) * d.cpuMsPerGmac + (op.macs > 0 ? 0 : (op.elements / 1e6) * d.cpuMsPerMElement);
  }, 0);
  const switchMs = plan.switches * d.switchMs;
  const fixedMs = plan.tpuOps === 0 ? 0 : d.fixedMs;
  const firstInvokeMs = o.firstInvoke ? (plan.cachedBytes / (d.linkMBps * MB)) * 1000 : 0;
  const total = fixedMs + transferMs + Math.max(computeMs, streamMs) + cpuMs + switchMs + firstInvokeMs;
  const parts = [
    `${plan.tpuOps} Edge TPU ops at ${clockHz / 1e6} MHz`,
    `${(plan.cachedBytes / MB).toFixed(2)} MB cached / ${(plan.streamedBytes / MB).toFixed(2)} MB streamed parameters (${plan.memorySource === 'dwn1-package' ? 'from the compiled package' : "Kiln's compiler model"}) over ${d.linkMBps} MB/s`,
    `${plan.cpuOps.length} CPU ops (${timed ? `${timed} timed on Kiln's interpreter × ${d.interpreterScale}, ` : ''}host rates ${d.cpuMsPerGmac} ms/GMAC)`,
    `${plan.switches} TPU↔CPU switches`,
  ];
  return {
    estimate: true,
    device: deviceId,
    estimatedMs: total,
    basis: `Kiln latency model (docs/specs/edgetpu-compiler.md §10.4) calibrated on Coral's published benchmarks for ${d.label} with a ${d.host}: ${parts.join('; ')}`,
    breakdown: { fixedMs, transferMs, computeMs, streamMs, cpuMs, switchMs, firstInvokeMs },
  };
}
