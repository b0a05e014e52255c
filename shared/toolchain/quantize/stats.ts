import { KilnError } from '../../common/errors.js';
import type { Graph } from '../ir/graph.js';
import type { CaptureRunner } from './capture.js';
import type { Sample } from '../data/dataset.js';
import type { TensorStat } from './ranges.js';
import { TensorStats } from './tensor-stats.js';

/** The calibration artifact (stats.json): re-applying it quantizes without running the model again. */
export interface StatsFile {
  format: 'kiln-quantize-stats';
  version: 1;
  samples: number;
  source: string;
  tensors: ({ id: number; name: string } & TensorStat)[];
}

/** Float activations and graph inputs: what calibration must observe. */
export function calibratedTensors(g: Graph): number[] {
  return g.tensors.filter((t) => t.dtype === 'float32' && !g.isConstant(t.id)).map((t) => t.id);
}

/** The stats.json of a calibration: `stats` holds the statistics of every calibrated tensor of `g`. */
export function statsFile(g: Graph, stats: TensorStats, samples: number, source: string): StatsFile {
  return {
    format: 'kiln-quantize-stats',
    version: 1,
    samples,
    source,
    tensors: stats.results((id) => g.tensor(id).name),
  };
}

/** Runs one sample with every tensor captured (views, read before the next run) and adds it to `stats`. */
export async function observeSample(
  runner: CaptureRunner,
  sample: Sample,
  stats: TensorStats,
  nameOf: (id: number) => string,
): Promise<void> {
  const { tensors } = await runner.run(sample, { capture: true, views: true });
  if (!tensors) throw new KilnError('E_INTERNAL', 'the executor returned no captured tensors');
  stats.observe(tensors, nameOf);
}

/**
 * Runs every sample through the float model, capturing all tensors (as views: each is read before the next run), and
 * records min/max + histogram per tensor. In this thread; calibration-pool.ts spreads it over worker threads.
 */
export async function collectStats(
  g: Graph,
  runner: CaptureRunner,
  samples: Sample[],
  source: string,
  onSample?: (done: number, total: number) => void,
): Promise<StatsFile> {
  const stats = new TensorStats(calibratedTensors(g));
  const nameOf = (id: number): string => g.tensor(id).name;
  for (let s = 0; s < samples.length; s++) {
    await observeSample(runner, samples[s]!, stats, nameOf);
    onSample?.(s + 1, samples.length);
  }
  return statsFile(g, stats, samples.length, source);
}

/** Checks a loaded stats.json against the model it is applied to; returns the stats by tensor id. */
export function statsById(g: Graph, stats: StatsFile): Map<number, TensorStat> {
  if (stats.format !== 'kiln-quantize-stats' || stats.version !== 1 || !Array.isArray(stats.tensors)) {
    throw new KilnError(
      'E_BAD_ARGUMENT',
      'the stats file is not a Kiln stats.json (format kiln-quantize-stats, version 1)',
    );
  }
  const byId = new Map<number, TensorStat>();
  for (const t of stats.tensors) {
    const mine = g.tensors[t.id];
    if (!mine || mine.name !== t.name) {
      throw new KilnError(
        'E_BAD_ARGUMENT',
        `the stats file was made for another model: tensor ${t.id} is ${mine ? `"${mine.name}"` : 'absent'} here, "${t.name}" there`,
        {
          hint: 'Calibrate again without --stats, or pass the stats.json written for this model',
        },
      );
    }
    byId.set(t.id, { min: t.min, max: t.max, hist: t.hist });
  }
  for (const id of calibratedTensors(g)) {
    if (!byId.has(id))
      throw new KilnError('E_BAD_ARGUMENT', `the stats file has no range for tensor ${g.tensor(id).name}`, {
        hint: 'Calibrate again without --stats',
      });
  }
  return byId;
}
