import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { DEFAULT_DATA, renderDoc, runConformance, summarize } from '../../scripts/onnx-conformance.js';

/**
 * ONNX's backend test data (Debian package libonnx-testdata) through Kiln and the TFLite runtime. Skips when the
 * package is not installed. The committed docs/onnx.md must equal what this run generates
 * (`npx tsx scripts/onnx-conformance.ts --write docs/onnx.md` regenerates it).
 */
const present = existsSync(`${DEFAULT_DATA}/node`);
const run = present ? test : test.skip;

run(
  'ONNX conformance: no crashes, 90% of the PyTorch and simple models match, the rest refused by op, docs/onnx.md is current',
  async (t) => {
    const results = await runConformance();
    const sum = summarize(results);
    const crashes = results.filter((r) => r.status === 'crash');
    t.deepEqual(
      crashes.map((r) => `${r.suite}/${r.name}: ${r.reason}`),
      [],
    );
    // a converted model computes what ONNX expects: no mismatches or runtime errors in any suite (node included)
    t.deepEqual(
      results.filter((r) => r.status === 'mismatch' || r.status === 'runtime-error').map((r) => `${r.suite}/${r.name}`),
      [],
    );
    const models = ['pytorch-converted', 'pytorch-operator', 'simple'];
    const pt = models.map((k) => sum[k]!);
    const matched = pt.reduce((n, s) => n + s.matched, 0);
    const total = pt.reduce((n, s) => n + s.total, 0);
    t.true(matched / total >= 0.9, `${matched}/${total} PyTorch and simple models match`);
    // every refusal is a KilnError (exit 2) that names the problem; in those suites, one of the model's ops
    for (const r of results.filter((x) => x.status === 'refused')) t.truthy(r.reason);
    for (const r of results.filter((x) => x.status === 'refused' && models.includes(x.suite)))
      t.true(
        r.ops.some((op) => r.reason!.includes(op)),
        `${r.suite}/${r.name}: ${r.reason}`,
      );
    const doc = readFileSync(new URL('../../docs/onnx.md', import.meta.url), 'utf8');
    t.is(doc, renderDoc(results));
  },
);
