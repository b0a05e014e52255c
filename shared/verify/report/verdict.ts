import type { VerifyReport } from './schema.js';

type Level = VerifyReport['verdict']['level'];
type Facts = Pick<VerifyReport, 'edgeTpu' | 'accuracy'>;

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** Verdict rules as data: each returns its level and reason when it applies. The worst level wins. */
const RULES: ((f: Facts) => [Level, string] | null)[] = [
  (f) =>
    f.edgeTpu.compileStatus === 'failed'
      ? ['bad', `the Edge TPU compiler would reject the model: ${f.edgeTpu.compileError ?? 'unknown error'}`]
      : null,
  (f) =>
    f.edgeTpu.compileStatus === 'ok' && f.edgeTpu.edgeTpuOps === 0 ? ['bad', 'no op runs on the Edge TPU'] : null,
  (f) =>
    f.edgeTpu.cpuOps > 0 && f.edgeTpu.edgeTpuOps > 0
      ? ['warn', `${f.edgeTpu.cpuOps} of ${f.edgeTpu.totalOps} ops run on the CPU`]
      : null,
  (f) => {
    const c = f.accuracy.classification;
    if (!c || c.top1Change === null) return null;
    const drop = -c.top1Change;
    if (drop > 0.05) return ['bad', `int8 top-1 is ${pct(drop)} below float`];
    if (drop > 0.01) return ['warn', `int8 top-1 is ${pct(drop)} below float`];
    return null;
  },
  (f) => {
    const c = f.accuracy.classification;
    if (!c) return null;
    if (c.top1Agreement < 0.8) return ['bad', `int8 agrees with float on top-1 for only ${pct(c.top1Agreement)}`];
    if (c.top1Agreement < 0.95) return ['warn', `int8 agrees with float on top-1 for ${pct(c.top1Agreement)}`];
    return null;
  },
  (f) => {
    const s = f.accuracy.segmentation;
    if (!s) return null;
    if (s.pixelAgreement < 0.9) return ['bad', `int8 masks agree with float on ${pct(s.pixelAgreement)} of pixels`];
    if (s.pixelAgreement < 0.97) return ['warn', `int8 masks agree with float on ${pct(s.pixelAgreement)} of pixels`];
    return null;
  },
  (f) => {
    const d = f.accuracy.detection;
    if (!d) return null;
    if (d.matchRate < 0.7) return ['bad', `int8 finds ${pct(d.matchRate)} of the float boxes (IoU ≥ 0.5)`];
    if (d.matchRate < 0.9) return ['warn', `int8 finds ${pct(d.matchRate)} of the float boxes (IoU ≥ 0.5)`];
    return null;
  },
  (f) => {
    if (f.accuracy.kind !== 'tensor') return null;
    const worst = Math.min(...f.accuracy.outputs.map((o) => o.snrDb));
    if (worst < 10) return ['bad', `output SNR is ${worst.toFixed(1)} dB`];
    if (worst < 20) return ['warn', `output SNR is ${worst.toFixed(1)} dB`];
    return null;
  },
];

const RANK: Record<Level, number> = { good: 0, warn: 1, bad: 2 };
const HEADLINE: Record<Level, string> = {
  good: 'Ready for the Edge TPU',
  warn: 'Runs on the Edge TPU, with caveats',
  bad: 'Not ready for the Edge TPU',
};

export function verdictOf(f: Facts): VerifyReport['verdict'] {
  const hits = RULES.map((r) => r(f)).filter((h): h is [Level, string] => h !== null);
  const level = hits.reduce<Level>((l, [h]) => (RANK[h] > RANK[l] ? h : l), 'good');
  return {
    level,
    headline: HEADLINE[level],
    reasons: hits.length > 0 ? hits.map(([, r]) => r) : ['every op maps to the Edge TPU and int8 tracks float'],
  };
}
