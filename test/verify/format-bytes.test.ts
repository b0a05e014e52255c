import test from 'ava';
import { compileModel } from '../../shared/toolchain/edgetpu/compile-model.js';
import { buildReport } from '../../shared/toolchain/edgetpu/report.js';
import { formatResult } from '../../shared/pipeline/build-result.js';
import { formatBytes } from '../../shared/common/format-bytes.js';
import { renderReportHtml } from '../../shared/toolchain/verify/report/html.js';
import { verifyModel } from '../../shared/toolchain/verify/verify-model.js';
import { classifierPair, samplesOf } from './fixtures.js';

test('formatBytes: the unit that fits', (t) => {
  t.is(formatBytes(0), '0 B');
  t.is(formatBytes(1023), '1023 B');
  t.is(formatBytes(1024), '1.0 KiB');
  t.is(formatBytes(1946), '1.9 KiB');
  t.is(formatBytes(236.3 * 1024), '236.3 KiB');
  t.is(formatBytes(2_183_616), '2.08 MiB');
});

test('a small model: the CLI build summary and report.html print the same KiB figure, not 0.00 MiB', async (t) => {
  const { float, int8 } = await classifierPair();
  const compiled = buildReport(compileModel([{ path: 'int8.tflite', bytes: int8 }]), null);
  const report = await verifyModel({
    float: { name: 'float.tflite', bytes: float },
    int8: { name: 'int8.tflite', bytes: int8 },
    compileReport: compiled,
    validation: { samples: samplesOf(1, 2), labels: null, source: 'synthetic', warnings: [] },
    debugSamples: 0,
  });
  const used = report.memory.onChipUsedBytes;
  t.true(used > 0 && used < 1024 * 1024, `${used}`);
  const figure = formatBytes(used);
  t.regex(figure, /^\d+(\.\d)? (B|KiB)$/);
  const cli = formatResult({
    buildId: 'b',
    modelId: 'tiny',
    status: 'succeeded',
    artifacts: {},
    summary: {
      compile: { target: 'default', opsOnEdgeTpu: 1, totalOps: 1, onChipMemoryBytes: used, offChipMemoryBytes: 0 },
    },
  });
  t.true(cli.includes(`on-chip ${figure}, off-chip 0 B`), cli);
  t.true(renderReportHtml(report).includes(`<td>${figure}</td>`));
  t.log(figure);
});
