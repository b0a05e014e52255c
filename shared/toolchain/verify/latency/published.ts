import type { DeviceId } from './devices.js';

/**
 * Published Edge TPU latencies, ms per inference (docs/specs/edgetpu-compiler.md §10.3). `usb3` and `devboard` are the coral.ai benchmark
 * columns "Desktop CPU + USB Accelerator (USB 3.0)" and "Dev Board" (≈2020, C++ model execution time);
 * `usb2` is Google's regression reference for a Raspberry Pi 3B+ (USB 2.0) host (edgetpu repo, March 2020, Python).
 * `cpuDesktop` / `cpuEmbedded` are the CPU-only columns (Xeon Gold 6154; quad Cortex-A53 1.5 GHz), used to calibrate
 * the host CPU cost of CPU-fallback ops. The SSD row of the Raspberry Pi file is a 300×300 model and is left out (the
 * rebuilt SSD follows the coral.ai table's 224×224).
 */
export interface PublishedRow {
  model: string;
  ms: Partial<Record<DeviceId | 'cpuDesktop' | 'cpuEmbedded', number>>;
}

export const PUBLISHED: readonly PublishedRow[] = [
  { model: 'DenseNet', ms: { cpuDesktop: 380, usb3: 20, cpuEmbedded: 1032, devboard: 25 } },
  { model: 'Inception v1', ms: { cpuDesktop: 90, usb3: 3.4, cpuEmbedded: 392, devboard: 4.1, usb2: 18.94 } },
  { model: 'Inception v4', ms: { cpuDesktop: 700, usb3: 85, cpuEmbedded: 3157, devboard: 102, usb2: 1054.94 } },
  { model: 'MobileNet v1', ms: { cpuDesktop: 53, usb3: 2.4, cpuEmbedded: 164, devboard: 2.4, usb2: 9.0 } },
  { model: 'MobileNet v2', ms: { cpuDesktop: 51, usb3: 2.6, cpuEmbedded: 122, devboard: 2.6, usb2: 10.61 } },
  { model: 'MobileNet v1 SSD', ms: { cpuDesktop: 109, usb3: 6.5, cpuEmbedded: 353, devboard: 11 } },
  { model: 'ResNet-50 V1', ms: { cpuDesktop: 484, usb3: 49, cpuEmbedded: 1763, devboard: 56 } },
  { model: 'SqueezeNet', ms: { cpuDesktop: 55, usb3: 2.1, cpuEmbedded: 232, devboard: 2 } },
  { model: 'VGG16', ms: { cpuDesktop: 867, usb3: 296, cpuEmbedded: 4595, devboard: 343 } },
  { model: 'EfficientNet-EdgeTpu-S', ms: { cpuDesktop: 5431, usb3: 5.1, cpuEmbedded: 705, devboard: 5.5 } },
];

export function publishedMs(model: string, device: DeviceId): number | null {
  return PUBLISHED.find((r) => r.model === model)?.ms[device] ?? null;
}
