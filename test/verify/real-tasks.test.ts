import test from 'ava';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildToDir } from '../../shared/cli/commands/build.js';
import { formatResult, resultJson } from '../../shared/pipeline/build-result.js';
import type { VerifyReport } from '../../shared/toolchain/verify/report/schema.js';
import { FRONTENDS_DIR, haveModels, modelPath } from '../helpers/models.js';

/**
 * Real models through the whole in-process pipeline: each gets the right task type, and its verdict reads the same in
 * report.json, report.html, the build record's summary, `kiln build --json` and the human CLI output.
 */
const BLAZEFACE = join(FRONTENDS_DIR, 'tfjs_graph', 'human', 'blazeface.json');

async function build(model: string, t: import('ava').ExecutionContext) {
  const out = mkdtempSync(join(tmpdir(), 'kiln-tasks-'));
  const result = await buildToDir(model, { out });
  t.is(result.status, 'succeeded', JSON.stringify(result.error));
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as VerifyReport;
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  const record = JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')) as { summary: Record<string, unknown> };
  const line = report.verdict.line;
  // the one verdict line, everywhere
  t.true(line.startsWith(`${report.verdict.headline} (${report.task.type}): `), line);
  t.true(html.includes(report.verdict.headline));
  t.true(html.includes(`Task: <strong>${report.task.type}</strong>`));
  t.like(record.summary['verify'], { verdict: report.verdict.level, ready: report.verdict.ready, line });
  const json = resultJson(result) as { verdict: { ready: boolean; line: string; outcome: string } };
  t.like(json.verdict, { ready: report.verdict.ready, line });
  const text = formatResult(result);
  const verifyLine = text.split('\n').find((l) => l.startsWith('  verify: '))!;
  t.true(verifyLine.startsWith(`  verify: ${line}; `), verifyLine);
  t.false(verifyLine.includes('{'));
  // "succeeded" and the verdict, both, on the first line
  t.true(text.split('\n')[0]!.endsWith(json.verdict.outcome));
  t.is(/NOT READY/.test(json.verdict.outcome), !report.verdict.ready);
  return { report, out };
}

(haveModels && existsSync(BLAZEFACE) ? test : test.skip)(
  'BlazeFace (TF.js graph, raw anchor outputs) is a detector, not a segmenter',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-blazeface-'));
    mkdirSync(join(dir, 'blazeface'));
    for (const f of ['blazeface.json', 'blazeface.bin'])
      copyFileSync(join(FRONTENDS_DIR, 'tfjs_graph', 'human', f), join(dir, 'blazeface', f));
    const { report } = await build(join(dir, 'blazeface'), t);
    t.like(report.task, { type: 'detector', source: 'model' });
    t.is(report.accuracy.kind, 'anchors');
    t.is(report.accuracy.segmentation, null);
    t.is(report.accuracy.anchors!.heads, 2);
    t.false(report.verdict.reasons.some((r) => /masks|pixels/.test(r)));
    t.log(report.verdict.line, JSON.stringify(report.accuracy.anchors));
  },
);

(haveModels ? test : test.skip)(
  "Google's quantized traffic_model (SSD post-processing + LSTM state) is not refused and is a detector",
  async (t) => {
    const { report } = await build(modelPath('traffic_model.tflite'), t);
    t.like(report.task, { type: 'detector', source: 'model' });
    t.is(report.accuracy.kind, 'detection');
    t.truthy(report.accuracy.detection);
    t.log(report.verdict.line);
  },
);

(haveModels ? test : test.skip)(
  'the SSD MobileNet v1 head with TFLite_Detection_PostProcess is a detector',
  async (t) => {
    const { report } = await build(modelPath('ssd_mobilenet_v1_coco_quant_postprocess_head_layers.tflite'), t);
    t.like(report.task, { type: 'detector', source: 'model' });
    t.is(report.accuracy.kind, 'detection');
    t.true(report.accuracy.detection!.floatBoxes > 0);
    t.log(report.verdict.line, JSON.stringify(report.accuracy.detection));
  },
);
