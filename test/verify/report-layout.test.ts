import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { compileModel } from '../../shared/toolchain/edgetpu/compile-model.js';
import { buildReport } from '../../shared/toolchain/edgetpu/report.js';
import { toTfliteBytes } from '../../shared/toolchain/loaders/convert.js';
import { openInterpreterRunner } from '../../shared/toolchain/quantize/capture.js';
import { quantizeModel } from '../../shared/toolchain/quantize/quantize-model.js';
import { renderReportHtml } from '../../shared/toolchain/verify/report/html.js';
import type { VerifyReport } from '../../shared/toolchain/verify/report/schema.js';
import { verifyModel } from '../../shared/toolchain/verify/verify-model.js';
import { haveModels, modelPath } from '../helpers/models.js';
import { classifier, samplesOf } from './fixtures.js';

/**
 * report.html in the real browser: whatever the tensor names, the op table's Status, Reason and Fix columns stay inside
 * the viewport (long names wrap; the full name is on hover), and memory is printed in the unit that fits.
 */
const CHROMIUM = '/usr/bin/chromium';
const maybe = existsSync(CHROMIUM) ? test.serial : test.skip;
const VIEWPORT = { width: 1280, height: 900 };
let browser: Browser | undefined;

test.before(async () => {
  if (!existsSync(CHROMIUM)) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});
test.after.always(async () => browser?.close());

/** TensorFlow-style names of ~300 characters without a space: the worst case for a table. */
const longName = (i: number): string =>
  `StatefulPartitionedCall/functional_1/${'very_long_block_name_'.repeat(12)}${i}/BiasAdd;StatefulPartitionedCall/functional_1/conv2d_${i}/Conv2D`;

async function longNamesReport(): Promise<VerifyReport> {
  const float = classifier();
  float.graph.tensors.forEach((t, i) => {
    if (!float.graph.isConstant(t.id)) t.name = longName(i);
  });
  const q = await quantizeModel(float, {
    samples: samplesOf(16, 1),
    debugSamples: 0,
    openRunner: openInterpreterRunner,
  });
  return verifyModel({
    float: { name: 'long.float.tflite', bytes: toTfliteBytes(float) },
    int8: { name: 'long.int8.tflite', bytes: toTfliteBytes(q.model) },
    validation: { samples: samplesOf(2, 4), labels: null, source: 'synthetic', warnings: [] },
    debugSamples: 0,
  });
}

/** Every op row's Status, Reason and Fix cells lie within the viewport, and the page does not scroll sideways. */
async function checkColumns(t: import('ava').ExecutionContext, report: VerifyReport, shot: string) {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-layout-'));
  const file = join(dir, 'report.html');
  await writeFile(file, renderReportHtml(report));
  const page = await browser!.newPage({ viewport: VIEWPORT });
  await page.goto(pathToFileURL(file).href);
  // A string, so that the bundler adds no helpers the page does not have.
  const boxes = (await page.evaluate(`[...document.querySelectorAll('#ops tr')].slice(1).map((tr) => {
    const cells = [...tr.querySelectorAll('td')];
    const box = (i) => { const r = cells[i].getBoundingClientRect(); return { left: r.left, right: r.right, width: r.width }; };
    return { name: cells[2].getAttribute('title'), status: box(3), reason: box(4), fix: box(5) };
  })`)) as ({ name: string | null } & Record<
    'status' | 'reason' | 'fix',
    { left: number; right: number; width: number }
  >)[];
  t.is(boxes.length, report.operations.length);
  for (const [i, b] of boxes.entries()) {
    t.is(b.name, report.operations[i]!.name, 'the full tensor name is on hover');
    for (const col of ['status', 'reason', 'fix'] as const) {
      t.true(b[col].left >= 0 && b[col].right <= VIEWPORT.width, `${col} of op ${i}: ${JSON.stringify(b[col])}`);
      t.true(b[col].width >= 60, `${col} of op ${i} is wide enough to read (${b[col].width}px)`);
    }
  }
  const sideways = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  const wide = await page.evaluate(
    `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > ${VIEWPORT.width}).slice(0, 3).map((e) => e.tagName + '#' + e.id + '.' + e.className)`,
  );
  t.true(sideways <= 0, `the page scrolls sideways by ${sideways}px: ${JSON.stringify(wide)}`);
  await page.screenshot({ path: join(process.cwd(), 'test-results', shot), fullPage: true }).catch(() => undefined);
  await page.close();
}

maybe('op table: Status, Reason and Fix stay in view with ~300-character tensor names', async (t) => {
  const report = await longNamesReport();
  t.true(report.operations.every((o) => o.name.length > 250));
  await checkColumns(t, report, 'report-long-names.png');
});

maybe('memory is shown in the unit that fits (B / KiB / MiB), the same figure as the CLI', async (t) => {
  const report = await longNamesReport();
  const html = renderReportHtml(report);
  const used = report.memory.onChipUsedBytes;
  t.true(used > 0 && used < 64 * 1024, `a tiny model uses ${used} bytes`);
  t.notRegex(html, /0\.00 MiB/);
  t.regex(html, /<tr><th>On-chip parameter cache used<\/th><td>\d+(\.\d)? (B|KiB)<\/td><\/tr>/);
});

(existsSync(CHROMIUM) && haveModels ? test.serial : test.skip)(
  "DeepLab's 8 CPU ops: status, reason and fix in view",
  async (t) => {
    const bytes = new Uint8Array(readFileSync(modelPath('deeplabv3_mnv2_dm05_pascal_quant.tflite')));
    const compiled = buildReport(compileModel([{ path: 'deeplab.tflite', bytes }]), null);
    const report = await verifyModel({
      float: { name: 'deeplab.tflite', bytes },
      int8: { name: 'deeplab.tflite', bytes },
      compileReport: compiled,
      validation: { samples: [], labels: null, source: 'none', warnings: [] },
      maxSamples: 0,
      debugSamples: 0,
    });
    const cpu = report.operations.filter((o) => !o.onEdgeTpu);
    t.is(cpu.length, 8);
    t.true(cpu.every((o) => o.reason.length > 0 && (o.fix ?? '').length > 0));
    await checkColumns(t, report, 'report-deeplab-ops.png');
  },
);
