import fitted from './fitted.json' with { type: 'json' };
import type { OpClass } from './macs.js';

export type DeviceId = 'usb3' | 'usb2' | 'devboard' | 'pcie';

/** Edge TPU chip constants shared by every form factor (docs/specs/edgetpu-compiler.md §10.1) plus the fitted per-class utilisation. */
export interface ChipConstants {
  /** 4,096 MAC/cycle is consistent with 4 TOPS at 500 MHz [I]. */
  macsPerCycle: number;
  /** Share of the MAC array an op class keeps busy (fitted by calibrate.ts). */
  utilisation: Record<Exclude<OpClass, 'elementwise'>, number>;
  /** Activation elements per cycle for elementwise, pooling, concatenation and reshape ops (fitted). */
  elementsPerCycle: number;
}

/** One form factor + host: link, clock and host costs. Fitted values are marked in docs/latency.md. */
export interface DeviceConstants {
  id: DeviceId;
  label: string;
  /** Host the figures describe. */
  host: string;
  /** Edge TPU clock with the runtime the benchmarks used (max runtime / PCIe default). */
  clockMHz: number;
  /** Fixed cost per inference: invoke, driver, DMA setup, instruction fetch. */
  fixedMs: number;
  /** Cost per Edge TPU op (instruction issue, layer sync), µs. */
  perOpUs: number;
  /** Host link bandwidth for streamed parameters and input/output transfer, MB/s (10^6 B). */
  linkMBps: number;
  /** One change between Edge TPU and CPU execution (delegate hand-over, sync, copy set-up). */
  switchMs: number;
  /** Host CPU: ms per GMAC of MAC ops (TFLite int8 kernels, from Coral's CPU-only columns). */
  cpuMsPerGmac: number;
  /**
   * Host CPU: ms per million activation elements of non-MAC ops (custom post-processing, elementwise). Not
   * identifiable from the published table (only SSD has a CPU op, and its cost is fitted as switchMs): an assumption.
   */
  cpuMsPerMElement: number;
  /**
   * Host CPU ms per ms of Kiln's interpreter, for CPU ops timed on it: published CPU-only MobileNet v1 ms / Kiln
   * interpreter ms on the calibration machine (2,881 ms; calibrate.ts --interpreter). Machine-dependent.
   */
  interpreterScale: number;
}

/** The device fields calibrate.ts fits (the rest of DeviceConstants is fixed or measured separately). */
export const FITTED_FIELDS = ['fixedMs', 'perOpUs', 'linkMBps', 'switchMs', 'cpuMsPerGmac'] as const;
export type FittedDevice = Pick<DeviceConstants, (typeof FITTED_FIELDS)[number]>;

/** One set of fitted constants: chip + per-device fitted fields. */
export interface FittedConstants {
  chip: ChipConstants;
  devices: Record<DeviceId, FittedDevice>;
}

/**
 * What calibrate.ts writes (fitted.json): the fit on every published row, and per architecture the fit that never saw
 * it (leave-one-architecture-out) for the held-out evaluation of `kiln latency-table`.
 */
export interface FittedFile {
  fit: FittedConstants;
  heldOut: Record<string, FittedConstants>;
}

export const FITTED: FittedFile = fitted as FittedFile;

/** Fixed or separately measured per-device facts (label, host, clock, assumed and machine-dependent CPU rates). */
const FIXED: Readonly<Record<DeviceId, Omit<DeviceConstants, (typeof FITTED_FIELDS)[number]>>> = {
  usb3: {
    id: 'usb3',
    label: 'USB Accelerator, USB 3.0 host',
    host: 'x86-64 desktop (Xeon Gold 6154)',
    clockMHz: 500,
    cpuMsPerMElement: 10,
    interpreterScale: 0.0184,
  },
  usb2: {
    id: 'usb2',
    label: 'USB Accelerator, USB 2.0 host',
    host: 'Raspberry Pi 3B+ (Cortex-A53 1.4 GHz)',
    clockMHz: 500,
    cpuMsPerMElement: 40,
    interpreterScale: 0.0569,
  },
  devboard: {
    id: 'devboard',
    label: 'Dev Board (PCIe)',
    host: 'Dev Board SoM (NXP i.MX 8M, Cortex-A53 1.5 GHz)',
    clockMHz: 500,
    cpuMsPerMElement: 40,
    interpreterScale: 0.0569,
  },
  pcie: {
    id: 'pcie',
    label: 'M.2 / Mini PCIe Accelerator (PCIe Gen2 ×1)',
    host: 'x86-64 desktop',
    clockMHz: 500,
    cpuMsPerMElement: 10,
    interpreterScale: 0.0184,
  },
};

/** Full device constants from a set of fitted constants. */
export function devicesFrom(c: FittedConstants): Record<DeviceId, DeviceConstants> {
  const out = {} as Record<DeviceId, DeviceConstants>;
  for (const id of Object.keys(FIXED) as DeviceId[]) out[id] = { ...FIXED[id], ...c.devices[id] };
  return out;
}

export const CHIP: ChipConstants = FITTED.fit.chip;

/** Per-device constants (one data table): fitted by calibrate.ts into fitted.json (see docs/latency.md). PCIe/M.2 on a desktop host has no published column: derived (docs/latency.md). */
export const DEVICES: Readonly<Record<DeviceId, DeviceConstants>> = devicesFrom(FITTED.fit);

export const DEVICE_IDS = Object.keys(DEVICES) as DeviceId[];
