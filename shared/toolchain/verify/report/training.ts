import { z } from 'zod';

/**
 * The `training` block of report.json, for models Kiln trained from a labelled image set (shared/train): how it was
 * trained, on how many images, and how well it classifies the test split it never saw (float and int8). Plus the
 * layout of the report.html pictures drawn from it (pure).
 */
export const TrainingReportSchema = z.object({
  route: z.enum(['transfer', 'automl']),
  base: z.string().optional(),
  /** Transfer learning: where the base was cut (the classifier op removed and the embedding the head reads). */
  cut: z
    .object({ tensor: z.string(), opIndex: z.number().int(), opType: z.string(), embeddingSize: z.number().int() })
    .optional(),
  classes: z.array(z.string()),
  samples: z.object({ train: z.number().int(), validation: z.number().int(), test: z.number().int() }),
  epochs: z.number().int(),
  trainSeconds: z.number(),
  testAccuracy: z.object({ float: z.number().nullable(), int8: z.number().nullable() }),
  history: z.array(
    z.object({
      epoch: z.number().int(),
      loss: z.number(),
      accuracy: z.number(),
      validationLoss: z.number().optional(),
      validationAccuracy: z.number().optional(),
    }),
  ),
  /** int8 model on the test split: confusion[true][predicted]. */
  confusion: z.array(z.array(z.number().int())),
  perClass: z.array(
    z.object({ class: z.string(), test: z.number().int(), correct: z.number().int(), accuracy: z.number().nullable() }),
  ),
  /** Test images the int8 model got wrong (at most 24), with a small PNG as a data: URI. */
  misclassified: z.array(z.object({ path: z.string(), label: z.string(), predicted: z.string(), image: z.string() })),
  /** Wall time per phase (dataset, embeddings, training, quantize, compile, verify, …), ms. */
  phasesMs: z.record(z.string(), z.number()),
  warnings: z.array(z.string()),
});
export type TrainingReport = z.infer<typeof TrainingReportSchema>;

export interface Polyline {
  name: string;
  color: string;
  points: string;
}

export interface TrainingLayout {
  width: number;
  height: number;
  plot: { x: number; y: number; w: number; h: number };
  lines: Polyline[];
  epochs: number;
  maxLoss: number;
  cells: { x: number; y: number; size: number; count: number; fill: string; text: string }[];
  matrix: { size: number; labels: { x: number; y: number; text: string }[]; width: number; height: number };
}

const PLOT = { x: 40, y: 10, w: 520, h: 200 };

/** The per-epoch chart (loss on a 0..max scale, accuracies on 0..1) and the confusion matrix grid. Pure. */
export function trainingLayout(t: TrainingReport): TrainingLayout {
  const n = Math.max(1, t.history.length);
  const maxLoss = Math.max(1e-9, ...t.history.map((h) => Math.max(h.loss, h.validationLoss ?? 0)));
  const xAt = (i: number): number => PLOT.x + (n === 1 ? PLOT.w / 2 : (i / (n - 1)) * PLOT.w);
  const yAt = (v: number): number => PLOT.y + PLOT.h - v * PLOT.h;
  const line = (name: string, color: string, pick: (h: TrainingReport['history'][number]) => number | undefined) => {
    const pts = t.history.flatMap((h, i) => {
      const v = pick(h);
      return v === undefined ? [] : [`${xAt(i).toFixed(1)},${yAt(v).toFixed(1)}`];
    });
    return pts.length > 0 ? [{ name, color, points: pts.join(' ') }] : [];
  };
  const lines = [
    ...line('training loss', '#dc2626', (h) => h.loss / maxLoss),
    ...line('validation loss', '#f59e0b', (h) =>
      h.validationLoss === undefined ? undefined : h.validationLoss / maxLoss,
    ),
    ...line('training accuracy', '#2563eb', (h) => h.accuracy),
    ...line('validation accuracy', '#16a34a', (h) => h.validationAccuracy),
  ];
  const k = t.classes.length;
  const size = Math.max(18, Math.min(48, Math.floor(360 / Math.max(1, k))));
  const left = 120;
  const top = 20;
  const cells: TrainingLayout['cells'] = [];
  t.confusion.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, j) => {
      const share = total > 0 ? count / total : 0;
      const shade = Math.round(255 - share * 200);
      cells.push({
        x: left + j * size,
        y: top + i * size,
        size,
        count,
        fill: i === j ? `rgb(${shade},${Math.min(255, shade + 40)},${shade})` : `rgb(255,${shade},${shade})`,
        text: String(count),
      });
    });
  });
  const labels = t.classes.flatMap((c, i) => [
    { x: left - 6, y: top + i * size + size / 2 + 4, text: c },
    { x: left + i * size + size / 2, y: top - 6, text: c.length > 6 ? `${c.slice(0, 5)}…` : c },
  ]);
  return {
    width: PLOT.x + PLOT.w + 20,
    height: PLOT.y + PLOT.h + 30,
    plot: PLOT,
    lines,
    epochs: t.history.length,
    maxLoss,
    cells,
    matrix: { size, labels, width: left + k * size + 10, height: top + k * size + 10 },
  };
}
