import { KilnError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import type { CaptureRunner } from './capture.js';
import type { Sample } from './dataset.js';
import { Histogram } from './histogram.js';
import type { TensorStat } from './ranges.js';

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

class Accumulator {
  min = Infinity;
  max = -Infinity;
  readonly hist = new Histogram();

  /** Finite values only (NaN/Inf are skipped); one pass over the data in the usual case (Histogram.observe). */
  add(data: Float32Array): void {
    const r = this.hist.observe(data);
    if (!r) return;
    if (r[0] < this.min) this.min = r[0];
    if (r[1] > this.max) this.max = r[1];
  }
}

/** Runs every sample through the float model, capturing all tensors, and records min/max + histogram per tensor. */
export async function collectStats(
  g: Graph,
  runner: CaptureRunner,
  samples: Sample[],
  source: string,
  onSample?: (done: number, total: number) => void,
): Promise<StatsFile> {
  const ids = calibratedTensors(g);
  const acc = new Map(ids.map((id) => [id, new Accumulator()]));
  for (let s = 0; s < samples.length; s++) {
    const { tensors } = await runner.run(samples[s]!, { capture: true });
    if (!tensors) throw new KilnError('E_INTERNAL', 'the executor returned no captured tensors');
    for (const [id, a] of acc) {
      const v = tensors.get(id);
      if (!v) throw new KilnError('E_INTERNAL', `tensor ${g.tensor(id).name} was not captured`);
      a.add(v.data as Float32Array);
    }
    onSample?.(s + 1, samples.length);
  }
  return {
    format: 'kiln-quantize-stats',
    version: 1,
    samples: samples.length,
    source,
    tensors: ids.map((id) => {
      const a = acc.get(id)!;
      const name = g.tensor(id).name;
      if (a.hist.total === 0)
        throw new KilnError('E_BAD_ARGUMENT', `tensor ${name} had no finite value on any calibration sample`, {
          hint: 'Check the calibration data and the model',
        });
      return { id, name, min: a.min, max: a.max, hist: a.hist.toJSON() };
    }),
  };
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
