import { Eta } from 'eta';
import { fileURLToPath } from 'node:url';
import { CHART, layerBars, layoutGraph } from './layout.js';
import { formatBytes } from '../../../common/format-bytes.js';
import type { VerifyReport } from './schema.js';
import { trainingLayout } from './training.js';

/**
 * report.html from report.json alone, through the eta template engine with auto-escaping: every value from the model
 * (op, tensor and file names) is printed with `<%= %>`, which escapes it; the templates never print raw HTML.
 */
const eta = new Eta({
  views: fileURLToPath(new URL('./templates/', import.meta.url)),
  autoEscape: true,
  autoTrim: false,
  cache: true,
});

const pct = (x: number | null | undefined): string =>
  x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`;

/** The figures of the summary card, formatted. Pure. */
export function summaryOf(r: VerifyReport): { label: string; value: string; note?: string }[] {
  const a = r.accuracy;
  const rows: { label: string; value: string; note?: string }[] = [
    {
      label: 'Ops on the Edge TPU',
      value: `${r.edgeTpu.edgeTpuOps} / ${r.edgeTpu.totalOps} (${pct(r.edgeTpu.share)})`,
    },
  ];
  if (a.classification) {
    const c = a.classification;
    if (c.floatTop1 !== null)
      rows.push({
        label: 'Top-1 float → int8',
        value: `${pct(c.floatTop1)} → ${pct(c.int8Top1)}`,
        note: `top-5 ${pct(c.floatTop5)} → ${pct(c.int8Top5)}; ${a.labelled} labelled samples`,
      });
    rows.push({ label: 'Top-1 agreement', value: pct(c.top1Agreement), note: `${a.samples} samples (${a.source})` });
  }
  if (a.segmentation)
    rows.push({
      label: 'Pixel agreement / mean IoU',
      value: `${pct(a.segmentation.pixelAgreement)} / ${a.segmentation.meanIoU.toFixed(3)}`,
      note: `${a.samples} samples`,
    });
  if (a.detection)
    rows.push({
      label: 'Boxes matched (IoU ≥ 0.5)',
      value: `${a.detection.matched} / ${a.detection.floatBoxes} (${pct(a.detection.matchRate)})`,
      note: `score ≥ ${a.detection.minScore}; ${a.samples} samples`,
    });
  if (a.anchors)
    rows.push({
      label: `Confident anchors agree (score ≥ ${a.anchors.minScore})`,
      value: `${pct(a.anchors.agreement)}: float ${a.anchors.floatAnchors}, int8 ${a.anchors.int8Anchors}, both ${a.anchors.matched}`,
      note: `mean box error ${a.anchors.meanBoxError.toPrecision(3)}; ${a.anchors.heads} head(s), ${a.samples} samples`,
    });
  if (a.keypoints)
    rows.push({
      label: 'Keypoints within tolerance',
      value: pct(a.keypoints.withinTolerance),
      note: `within ${a.keypoints.tolerance.toPrecision(2)} ${a.keypoints.unit}; ${a.keypoints.keypoints} keypoints`,
    });
  if (a.embedding)
    rows.push({
      label: 'Embedding cosine similarity',
      value: a.embedding.meanCosine.toFixed(4),
      note: `lowest ${a.embedding.minCosine.toFixed(4)}; ${a.samples} samples`,
    });
  rows.push({
    label: 'Edge TPU memory',
    value: `${formatBytes(r.memory.onChipUsedBytes)} on-chip, ${formatBytes(r.memory.offChipStreamedBytes)} off-chip`,
    ...(r.memory.estimate ? { note: "Kiln's prediction" } : {}),
  });
  for (const o of a.outputs)
    rows.push({
      label: `Output ${o.name}`,
      value: `SNR ${o.snrDb.toFixed(1)} dB`,
      note: `max abs error ${o.maxAbsError.toPrecision(3)}`,
    });
  for (const l of Object.values(r.latency))
    rows.push({ label: l.label, value: `≈ ${l.estimatedMs.toFixed(2)} ms (estimate)`, note: l.basis });
  return rows;
}

export function renderReportHtml(report: VerifyReport): string {
  return eta.render('report', {
    r: report,
    summary: summaryOf(report),
    graph: layoutGraph(report.graph),
    bars: layerBars(report.layers),
    chart: CHART,
    mb: formatBytes,
    pct,
    training: report.training ? trainingLayout(report.training) : null,
  });
}
