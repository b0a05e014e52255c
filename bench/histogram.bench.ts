import { Interpreter } from '../shared/toolchain/interpreter/index.js';
import { CalibrationConfigSchema } from '../shared/toolchain/data/input-config.js';
import { loadCalibrationSet } from '../shared/toolchain/data/dataset.js';
import { calibratedTensors } from '../shared/toolchain/quantize/stats.js';
import { TensorStats } from '../shared/toolchain/quantize/tensor-stats.js';
import type { Figure } from './history.js';
import { mobileNetV2Size } from './quantize.bench.js';

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Least CPU time of `rounds` calls of `f`, in ms. */
function bestOf(rounds: number, f: () => void): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const c0 = cpuMs();
    f();
    best = Math.min(best, cpuMs() - c0);
  }
  return best;
}

/**
 * The statistics alone (TensorStats.observe → Histogram.observe, as calibration runs them) on the activations of the
 * MobileNetV2-size bench model (3 images): the steady state, every value inside the window set by image 0 (the
 * one-pass path), and a tensor's first observation (min/max pass, window placement, counting pass). CPU time, best of
 * several rounds; ns per value and ms per image.
 */
export async function run(): Promise<Record<string, unknown>> {
  const { model } = mobileNetV2Size();
  const g = model.graph;
  const ids = calibratedTensors(g);
  const nameOf = (id: number): string => g.tensor(id).name;
  const set = await loadCalibrationSet(
    undefined,
    g.inputs.map((i) => g.tensor(i)),
    CalibrationConfigSchema.parse({}),
    3,
  );
  const interpreter = new Interpreter(model);
  const images = set.samples.map((s) => interpreter.run(s, { capture: true }).tensors!);
  const valuesPerImage = ids.reduce((a, id) => a + images[0]!.get(id)!.data.length, 0);

  const stats = new TensorStats(ids);
  stats.observe(images[0]!, nameOf);
  const later = images.slice(1);
  const observeLater = (): void => later.forEach((img) => stats.observe(img, nameOf));
  observeLater();
  const steady = bestOf(8, observeLater) / later.length;
  const first = bestOf(8, () => images.forEach((img) => new TensorStats(ids).observe(img, nameOf))) / images.length;

  const inference = bestOf(4, () => interpreter.run(set.samples[0]!));
  const ns = (ms: number): number => +((ms * 1e6) / valuesPerImage).toFixed(2);
  const figures: Record<string, Figure> = {
    steadyVsInference: {
      ratio: +(steady / inference).toFixed(3),
      better: 'lower',
      of: 'statistics CPU ms per image (steady state) ÷ interpreter inference CPU ms per image',
    },
    firstObservationVsInference: {
      ratio: +(first / inference).toFixed(3),
      better: 'lower',
      of: 'statistics CPU ms per image (first observation) ÷ interpreter inference CPU ms per image',
    },
  };
  return {
    figures,
    inferenceMsPerImage: +inference.toFixed(1),
    summary: `histogram: statistics ${ns(steady)} ns/value in the steady state (${steady.toFixed(1)} ms per image), ${ns(first)} ns/value on a first observation (${first.toFixed(1)} ms per image); ${valuesPerImage} values per image`,
    valuesPerImage,
    steady: { nsPerValue: ns(steady), msPerImage: +steady.toFixed(1) },
    firstObservation: { nsPerValue: ns(first), msPerImage: +first.toFixed(1) },
  };
}
