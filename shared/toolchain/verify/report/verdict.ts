import type { VerifyReport } from './schema.js';

type Level = VerifyReport['verdict']['level'];
type Facts = Pick<VerifyReport, 'edgeTpu' | 'accuracy' | 'task'>;

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
    const a = f.accuracy.anchors;
    if (!a) return null;
    const what = `int8 and float agree on ${pct(a.agreement)} of the anchors either is confident about (score ≥ ${a.minScore}; float ${a.floatAnchors}, int8 ${a.int8Anchors}, both ${a.matched})`;
    if (a.agreement < 0.7) return ['bad', what];
    if (a.agreement < 0.9) return ['warn', what];
    return null;
  },
  (f) => {
    const k = f.accuracy.keypoints;
    if (!k) return null;
    const what = `int8 places ${pct(k.withinTolerance)} of keypoints within ${k.tolerance.toPrecision(2)} ${k.unit} of float`;
    if (k.withinTolerance < 0.7) return ['bad', what];
    if (k.withinTolerance < 0.9) return ['warn', what];
    return null;
  },
  (f) => {
    const e = f.accuracy.embedding;
    if (!e) return null;
    const what = `int8 embeddings have mean cosine similarity ${e.meanCosine.toFixed(3)} to float`;
    if (e.meanCosine < 0.95) return ['bad', what];
    if (e.meanCosine < 0.99) return ['warn', what];
    return null;
  },
  (f) => {
    // Tasks without a task metric (regression, other, or a kiln.json task the outputs cannot be scored as), and raw
    // detector heads, whose box and score tensors the application decodes itself.
    if (f.accuracy.kind !== 'tensor' && f.accuracy.kind !== 'anchors') return null;
    const worst = f.accuracy.outputs.reduce((w, o) => (o.snrDb < w.snrDb ? o : w), f.accuracy.outputs[0]!);
    if (!worst) return null;
    const what = `output ${worst.name} SNR is ${worst.snrDb.toFixed(1)} dB`;
    if (worst.snrDb < 10) return ['bad', what];
    if (worst.snrDb < 20) return ['warn', what];
    return null;
  },
];

const RANK: Record<Level, number> = { good: 0, warn: 1, bad: 2 };
const HEADLINE: Record<Level, string> = {
  good: 'Ready for the Edge TPU',
  warn: 'Runs on the Edge TPU, with caveats',
  bad: 'Not ready for the Edge TPU',
};

/** The one-line verdict every surface prints: `<headline> (<task>): <worst reason>[ (+n more)]`. */
export function verdictLine(v: Pick<VerifyReport['verdict'], 'headline' | 'reasons'>, task: string): string {
  const more = v.reasons.length > 1 ? ` (+${v.reasons.length - 1} more)` : '';
  return `${v.headline} (${task}): ${v.reasons[0] ?? ''}${more}`;
}

export function verdictOf(f: Facts): VerifyReport['verdict'] {
  const hits = RULES.map((r) => r(f)).filter((h): h is [Level, string] => h !== null);
  const level = hits.reduce<Level>((l, [h]) => (RANK[h] > RANK[l] ? h : l), 'good');
  // Worst first, so the one-line form names the reason that decided the level.
  const sorted = [...hits].sort((a, b) => RANK[b[0]] - RANK[a[0]]);
  const reasons =
    sorted.length > 0 ? sorted.map(([, r]) => r) : ['every op maps to the Edge TPU and int8 tracks float'];
  const v = { level, ready: level !== 'bad', headline: HEADLINE[level], reasons };
  return { ...v, line: verdictLine(v, f.task.type) };
}
