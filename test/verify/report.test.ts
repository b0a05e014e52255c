import test from 'ava';
import { renderReportHtml } from '../../shared/toolchain/verify/report/html.js';
import { VerifyReportSchema } from '../../shared/toolchain/verify/report/schema.js';
import { verifyModel } from '../../shared/toolchain/verify/verify-model.js';
import { EVIL, classifierPair, samplesOf } from './fixtures.js';

const pair = classifierPair();

test('verifyModel scores the int8 model against the float model and estimates latency per device', async (t) => {
  const { float, int8 } = await pair;
  const labels = [0, 1, 2, 3, 0, 1, 2, 3];
  const report = await verifyModel({
    float: { name: 'float.tflite', bytes: float },
    int8: { name: 'int8.tflite', bytes: int8 },
    validation: { samples: samplesOf(8, 7), labels, source: 'test', warnings: [] },
    maxSamples: 6,
    debugSamples: 3,
  });
  t.notThrows(() => VerifyReportSchema.parse(JSON.parse(JSON.stringify(report))));
  const c = report.accuracy.classification!;
  t.is(report.accuracy.kind, 'classification');
  t.is(report.accuracy.samples, 6);
  t.is(report.accuracy.labelled, 6);
  t.true(c.top1Agreement > 0.5 && c.top1Agreement <= 1);
  t.true(c.floatTop1! >= 0 && c.floatTop1! <= 1);
  t.is(c.top1Change, c.int8Top1! - c.floatTop1!);
  t.true(report.warnings.some((w) => w.includes('6 of 8')));
  t.is(report.layers.debugSamples, 3);
  t.is(report.layers.worst.length, 3);
  const minSnr = Math.min(...report.layers.all.map((l) => l.snrDb));
  t.is(report.layers.worst[0]!.snrDb, minSnr);
  t.true(report.accuracy.outputs[0]!.snrDb > 10);
  t.deepEqual(Object.keys(report.latency).sort(), ['devboard', 'pcie', 'usb2', 'usb3']);
  for (const l of Object.values(report.latency)) {
    t.true(l.estimate);
    t.true(l.estimatedMs > 0);
    t.regex(l.basis, /Kiln latency model/);
  }
  t.is(report.edgeTpu.totalOps, report.operations.length);
  t.is(report.graph.nodes.length, report.operations.length);
  t.true(report.graph.nodes.some((n) => n.name === EVIL));
});

test('report.html escapes names from the model: a <script> tensor name renders as text', async (t) => {
  const { float, int8 } = await pair;
  const report = await verifyModel({
    float: { name: `${EVIL}.tflite`, bytes: float },
    int8: { name: 'int8.tflite', bytes: int8 },
    validation: { samples: samplesOf(2, 3), labels: null, source: 'test', warnings: [EVIL] },
    debugSamples: 2,
  });
  const html = renderReportHtml(report);
  t.false(html.includes('<script'));
  t.true(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'));
  t.true(html.includes('<svg id="graph"'));
  t.true(html.includes(report.verdict.headline.replace(/,/g, ',')));
  t.is((html.match(/<g class="op /g) ?? []).length, report.operations.length);
  t.is((html.match(/<rect x="\d/g) ?? []).length >= report.operations.length, true);
});
