/**
 * Fits the latency model's constants to Coral's published table (docs/specs/edgetpu-compiler.md §10.3) and writes them to fitted.json, the file
 * devices.ts reads:
 *
 *   npx tsx shared/toolchain/verify/latency/calibrate.ts            # writes shared/toolchain/verify/latency/fitted.json, prints the table
 *   npx tsx shared/toolchain/verify/latency/calibrate.ts --check    # exits 1 when fitted.json differs from a fresh fit
 *   npx tsx shared/toolchain/verify/latency/calibrate.ts --interpreter   # also times the interpreter (prints interpreterScale)
 *
 * The fit is deterministic: it always starts from the fixed SEED below (never from the committed constants), so
 * re-running it reproduces fitted.json exactly (test/verify/latency-calibration.test.ts checks this).
 *
 * 1. Host CPU rates (cpuMsPerGmac) = median over models of published CPU-only ms / GMAC (desktop and embedded columns).
 * 2. Edge TPU constants: coordinate descent on log-parameters minimising Σ |log(estimated / published)| (L1 in log
 *    space: robust to the one or two architectures the model cannot explain) over every (model, device) pair with a
 *    published figure. Each coordinate is searched on a geometric grid within physical bounds, for a few sweeps.
 * 3. PCIe/M.2 on a desktop has no published column: it takes the Dev Board's PCIe link and per-inference cost with the
 *    USB 3.0 desktop host's per-op and CPU rates.
 * 4. Leave-one-architecture-out: steps 1–3 again once per architecture with all of its rows removed; those constants
 *    (fitted.json `heldOut`) give `kiln latency-table` an estimate for each row from a fit that never saw it.
 *
 * With --interpreter: times Kiln's interpreter on the rebuilt MobileNet v1 (best of 3 runs on this machine) and prints
 * interpreterScale = published CPU-only ms / interpreter ms (desktop and embedded columns), to paste into devices.ts:
 * a machine-dependent measurement, kept out of the deterministic fit. Timing lives here only, never in tests.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Interpreter } from '../../interpreter/index.js';
import { mobilenetV1 } from '../architectures/mobilenet-v1.js';
import { devicesFrom, FITTED, type DeviceId, type FittedConstants, type FittedFile } from './devices.js';
import { estimateLatency } from './estimate.js';
import { PUBLISHED } from './published.js';
import { median, planArchitectures, type ArchitecturePlan } from './table.js';

/**
 * Starting point of every fit: round physical priors (docs/specs/edgetpu-compiler.md §10.1/§10.4: 4,096 MAC/cycle; USB 3.0 ≈ 420 MB/s, Dev Board
 * PCIe ≈ 380 MB/s, USB 2.0 ≈ 34 MB/s streaming), not fitted values.
 */
export const SEED: FittedConstants = {
  chip: { macsPerCycle: 4096, utilisation: { conv: 0.5, depthwise: 0.05, fc: 0.05 }, elementsPerCycle: 16 },
  devices: {
    usb3: { fixedMs: 1, perOpUs: 10, linkMBps: 420, switchMs: 1, cpuMsPerGmac: 100 },
    usb2: { fixedMs: 1, perOpUs: 10, linkMBps: 34, switchMs: 2, cpuMsPerGmac: 300 },
    devboard: { fixedMs: 1, perOpUs: 10, linkMBps: 380, switchMs: 1, cpuMsPerGmac: 300 },
    pcie: { fixedMs: 1, perOpUs: 10, linkMBps: 380, switchMs: 1, cpuMsPerGmac: 100 },
  },
};

interface Knob {
  name: string;
  lo: number;
  hi: number;
  get: (p: FittedConstants) => number;
  set: (p: FittedConstants, v: number) => void;
}

export const FITTED_DEVICES: DeviceId[] = ['usb3', 'devboard', 'usb2'];

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
  const dev: ['fixedMs' | 'perOpUs' | 'linkMBps' | 'switchMs', number, number][] = [
    ['fixedMs', 0.1, 10],
    ['perOpUs', 0.5, 100],
    ['linkMBps', 10, 1000],
    ['switchMs', 0.05, 10],
  ];
  for (const d of FITTED_DEVICES) {
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
    for (const device of FITTED_DEVICES) {
      const published = row.ms[device];
      if (published !== undefined) out.push({ plan: p.plan, device, published, model: p.model });
    }
  }
  return out;
}

/** Estimated ms of one plan on one device with a given set of constants. */
export function estimateWith(c: FittedConstants, plan: Point['plan'], device: DeviceId): number {
  return estimateLatency(plan, device, { chip: c.chip, device: devicesFrom(c)[device] }).estimatedMs;
}

const loss = (pts: readonly Point[], p: FittedConstants): number =>
  pts.reduce((s, x) => s + Math.abs(Math.log(estimateWith(p, x.plan, x.device) / x.published)), 0);

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

const round = (x: number): number => Number(x.toPrecision(3));

/** Steps 1–3: one deterministic fit (from SEED) on the given plans. Pure. */
export function fitConstants(plans: readonly ArchitecturePlan[], sweeps = 6): FittedConstants {
  const p = structuredClone(SEED);
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
  return p;
}

/** Step 4 with steps 1–3: the fit on every architecture and one fit per held-out architecture. Pure. */
export function fitAll(plans: readonly ArchitecturePlan[]): FittedFile {
  const heldOut: Record<string, FittedConstants> = {};
  for (const p of plans) {
    if (!p.plan || !PUBLISHED.some((r) => r.model === p.model)) continue;
    heldOut[p.model] = fitConstants(plans.filter((q) => q.model !== p.model));
  }
  return { fit: fitConstants(plans), heldOut };
}

/** Loss of a set of constants on the given plans (Σ |log ratio| over the fitted devices). */
export function fitLoss(plans: readonly ArchitecturePlan[], c: FittedConstants): number {
  return loss(points(plans), c);
}

/** fitted.json's text for a fit (what calibrate.ts writes). */
export const fittedJson = (f: FittedFile): string => `${JSON.stringify(f, null, 2)}\n`;

export const FITTED_PATH = fileURLToPath(new URL('./fitted.json', import.meta.url));

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
  const f = fitAll(plans);
  const text = fittedJson(f);
  if (process.argv.includes('--check')) {
    const same = text === fittedJson(FITTED);
    process.stdout.write(same ? 'fitted.json is up to date\n' : 'fitted.json differs from a fresh fit\n');
    process.exit(same ? 0 : 1);
  }
  writeFileSync(FITTED_PATH, text);
  process.stdout.write(`wrote ${FITTED_PATH}\nloss Σ|log ratio| = ${fitLoss(plans, f.fit).toFixed(3)}\n`);
  if (process.argv.includes('--interpreter')) {
    const s = interpreterScales();
    process.stdout.write(
      `Kiln interpreter, MobileNet v1: ${s.interpreterMs} ms; interpreterScale desktop ${s.desktop}, embedded ${s.embedded} (devices.ts)\n`,
    );
  }
  const errs: Record<string, { in: number[]; out: number[] }> = {};
  process.stdout.write(
    '| Model | Device | Estimated ms | Held-out ms | Published ms | Error | Held-out error |\n|---|---|---|---|---|---|---|\n',
  );
  for (const pl of plans) {
    const row = PUBLISHED.find((r) => r.model === pl.model);
    for (const d of FITTED_DEVICES) {
      const pub = row?.ms[d];
      if (pub === undefined || !pl.plan) continue;
      const est = estimateWith(f.fit, pl.plan, d);
      const held = estimateWith(f.heldOut[pl.model]!, pl.plan, d);
      const e = (x: number) => Math.abs(x - pub) / pub;
      (errs[d] ??= { in: [], out: [] }).in.push(e(est));
      errs[d].out.push(e(held));
      process.stdout.write(
        `| ${pl.model} | ${d} | ${est.toFixed(2)} | ${held.toFixed(2)} | ${pub} | ${(100 * e(est)).toFixed(0)} % | ${(100 * e(held)).toFixed(0)} % |\n`,
      );
    }
  }
  for (const [d, x] of Object.entries(errs))
    process.stdout.write(
      `${d}: median error in-sample ${(100 * median(x.in)).toFixed(1)} %, held-out ${(100 * median(x.out)).toFixed(1)} % (${x.in.length} rows)\n`,
    );
  const all = Object.values(errs);
  process.stdout.write(
    `all: in-sample ${(100 * median(all.flatMap((x) => x.in))).toFixed(1)} %, held-out ${(100 * median(all.flatMap((x) => x.out))).toFixed(1)} %\n`,
  );
}
