/**
 * Fits the latency model's constants to Coral's published table (spec §10.3):
 *
 *   npx tsx shared/verify/latency/calibrate.ts
 *
 * 1. Host CPU rates (cpuMsPerGmac) = median over models of published CPU-only ms / GMAC (desktop and embedded columns).
 * 2. Edge TPU constants: coordinate descent on log-parameters minimising Σ |log(estimated / published)| (L1 in log
 *    space: robust to the one or two architectures the model cannot explain) over every (model, device) pair with a
 *    published figure. Each coordinate is searched on a geometric grid within physical bounds, for a few sweeps.
 * 3. PCIe/M.2 on a desktop has no published column: it takes the Dev Board's PCIe link and per-inference cost with the
 *    USB 3.0 desktop host's per-op and CPU rates.
 *
 * 4. With --interpreter: times Kiln's interpreter on the rebuilt MobileNet v1 (best of 3 runs on this machine) and sets
 *    interpreterScale = published CPU-only ms / interpreter ms (desktop and embedded columns): the factor applied to
 *    CPU-fallback ops timed on Kiln's interpreter. Timing lives here only, never in tests.
 *
 * Prints the fitted constants (paste them into devices.ts) and the error per model. Pure apart from the final print.
 */
import { Interpreter } from '../../interpreter/index.js';
import { mobilenetV1 } from '../architectures/mobilenet-v1.js';
import { CHIP, DEVICES, type ChipConstants, type DeviceConstants, type DeviceId } from './devices.js';
import { estimateLatency } from './estimate.js';
import { median, planArchitectures, type ArchitecturePlan } from './table.js';
import { PUBLISHED } from './published.js';

type Params = { chip: ChipConstants; devices: Record<DeviceId, DeviceConstants> };

interface Knob {
  name: string;
  lo: number;
  hi: number;
  get: (p: Params) => number;
  set: (p: Params, v: number) => void;
}

const FITTED: DeviceId[] = ['usb3', 'devboard', 'usb2'];

function knobs(): Knob[] {
  const k: Knob[] = [];
  for (const c of ['conv', 'depthwise', 'fc'] as const) {
    k.push({
      name: `utilisation.${c}`,
      lo: 0.01,
      hi: 1,
      get: (p) => p.chip.utilisation[c],
      set: (p, v) => (p.chip.utilisation[c] = v),
    });
  }
  k.push({
    name: 'elementsPerCycle',
    lo: 4,
    hi: 1024,
    get: (p) => p.chip.elementsPerCycle,
    set: (p, v) => (p.chip.elementsPerCycle = v),
  });
  const dev: [keyof DeviceConstants & ('fixedMs' | 'perOpUs' | 'linkMBps' | 'switchMs'), number, number][] = [
    ['fixedMs', 0.1, 10],
    ['perOpUs', 0.5, 100],
    ['linkMBps', 10, 1000],
    ['switchMs', 0.05, 10],
  ];
  for (const d of FITTED) {
    for (const [f, lo, hi] of dev) {
      if (f === 'switchMs' && d === 'usb2') continue; // no published model with CPU ops on that host
      k.push({ name: `${d}.${f}`, lo, hi, get: (p) => p.devices[d][f], set: (p, v) => (p.devices[d][f] = v) });
    }
  }
  return k;
}

interface Point {
  plan: NonNullable<ArchitecturePlan['plan']>;
  device: DeviceId;
  published: number;
  model: string;
}

function points(plans: readonly ArchitecturePlan[]): Point[] {
  const out: Point[] = [];
  for (const p of plans) {
    const row = PUBLISHED.find((r) => r.model === p.model);
    if (!p.plan || !row) continue;
    for (const device of FITTED) {
      const published = row.ms[device];
      if (published !== undefined) out.push({ plan: p.plan, device, published, model: p.model });
    }
  }
  return out;
}

const loss = (pts: readonly Point[], p: Params): number =>
  pts.reduce(
    (s, x) =>
      s +
      Math.abs(
        Math.log(
          estimateLatency(x.plan, x.device, { chip: p.chip, device: p.devices[x.device] }).estimatedMs / x.published,
        ),
      ),
    0,
  );

/** Host CPU ms per GMAC: median of the CPU-only columns over the rebuilt architectures. */
function cpuRates(plans: readonly ArchitecturePlan[]): { desktop: number; embedded: number } {
  const ratio = (col: 'cpuDesktop' | 'cpuEmbedded'): number =>
    median(
      plans.flatMap((p) => {
        const ms = PUBLISHED.find((r) => r.model === p.model)?.ms[col];
        return ms === undefined ? [] : [ms / (p.macs / 1e9)];
      }),
    );
  return { desktop: ratio('cpuDesktop'), embedded: ratio('cpuEmbedded') };
}

export function calibrate(plans: readonly ArchitecturePlan[], sweeps = 6): { params: Params; loss: number } {
  const p: Params = structuredClone({ chip: CHIP, devices: DEVICES }) as Params;
  const cpu = cpuRates(plans);
  for (const d of ['usb3', 'pcie'] as const) p.devices[d].cpuMsPerGmac = round(cpu.desktop);
  for (const d of ['usb2', 'devboard'] as const) p.devices[d].cpuMsPerGmac = round(cpu.embedded);
  const pts = points(plans);
  const ks = knobs();
  for (let s = 0; s < sweeps; s++) {
    const span = 4 / 2 ** s; // grid half-width, in factors of e
    for (const k of ks) {
      const v0 = k.get(p);
      let best = { v: v0, l: loss(pts, p) };
      for (let i = -12; i <= 12; i++) {
        const v = Math.min(k.hi, Math.max(k.lo, v0 * Math.exp((span * i) / 12)));
        k.set(p, v);
        const l = loss(pts, p);
        if (l < best.l - 1e-12) best = { v, l };
      }
      k.set(p, best.v);
    }
  }
  for (const k of ks) k.set(p, round(k.get(p)));
  // PCIe/M.2 on a desktop: the Dev Board's link and fixed cost, the desktop host's per-op cost and CPU rates
  Object.assign(p.devices.pcie, {
    fixedMs: p.devices.devboard.fixedMs,
    linkMBps: p.devices.devboard.linkMBps,
    perOpUs: p.devices.usb3.perOpUs,
    switchMs: p.devices.usb3.switchMs,
  });
  return { params: p, loss: loss(pts, p) };
}

const round = (x: number): number => Number(x.toPrecision(3));

/** Best-of-3 interpreter time of the rebuilt MobileNet v1, and the host/interpreter factors it implies. */
export function interpreterScales(): { interpreterMs: number; desktop: number; embedded: number } {
  const it = new Interpreter(mobilenetV1());
  const x = new Uint8Array(224 * 224 * 3).fill(128);
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    it.run([x]);
    best = Math.min(best, performance.now() - t);
  }
  const ms = PUBLISHED.find((r) => r.model === 'MobileNet v1')!.ms;
  return {
    interpreterMs: Math.round(best),
    desktop: round(ms.cpuDesktop! / best),
    embedded: round(ms.cpuEmbedded! / best),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const plans = planArchitectures();
  const { params, loss: l } = calibrate(plans);
  if (process.argv.includes('--interpreter')) {
    const s = interpreterScales();
    process.stdout.write(`Kiln interpreter, MobileNet v1: ${s.interpreterMs} ms\n`);
    for (const d of ['usb3', 'pcie'] as const) params.devices[d].interpreterScale = s.desktop;
    for (const d of ['usb2', 'devboard'] as const) params.devices[d].interpreterScale = s.embedded;
  }
  process.stdout.write(`loss Σ|log ratio| = ${l.toFixed(3)}\n`);
  process.stdout.write(`CHIP = ${JSON.stringify(params.chip, null, 2)}\n`);
  process.stdout.write(`DEVICES = ${JSON.stringify(params.devices, null, 2)}\n`);
  const errs: number[] = [];
  process.stdout.write('| Model | Device | Estimated ms | Published ms | Error |\n|---|---|---|---|---|\n');
  for (const pl of plans) {
    const row = PUBLISHED.find((r) => r.model === pl.model);
    for (const d of FITTED) {
      const pub = row?.ms[d];
      if (pub === undefined) continue;
      if (!pl.plan) {
        process.stdout.write(`| ${pl.model} | ${d} | — | ${pub} | not compiled |\n`);
        continue;
      }
      const est = estimateLatency(pl.plan, d, { chip: params.chip, device: params.devices[d] }).estimatedMs;
      const e = Math.abs(est - pub) / pub;
      errs.push(e);
      process.stdout.write(`| ${pl.model} | ${d} | ${est.toFixed(2)} | ${pub} | ${(100 * e).toFixed(0)} % |\n`);
    }
  }
  process.stdout.write(`median error ${(100 * median(errs)).toFixed(1)} %\n`);
}
