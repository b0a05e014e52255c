import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IrModel } from '../../shared/toolchain/ir/model.js';
import { TfliteRuntime } from '../../shared/toolchain/runtime/tflite-runtime.js';
import { runQuantize } from '../../shared/cli/commands/quantize.js';
import { precheckModel } from '../../shared/toolchain/quantize/precheck.js';
import { haveModels, modelPath, rng } from '../helpers/models.js';
import { decodeOutput, encodeInput, loadIr, npyBytes, quantile } from './helpers.js';

/** |quantized − float| over 500 inputs x ∈ [0, 2π], in LSB of Google's output scale (one unit for both models). */
async function errors(float: IrModel, quant: IrModel, lsb: number): Promise<number[]> {
  const fr = await TfliteRuntime.load(readFileSync(modelPath('tflm_hello_world_float.tflite')));
  const { writeTflite } = await import('../../shared/toolchain/tflite/writer.js');
  const { toTflite } = await import('../../shared/toolchain/ir/to-tflite.js');
  const qr = await TfliteRuntime.load(writeTflite(toTflite(quant)));
  const r = rng(99);
  const out: number[] = [];
  try {
    for (let i = 0; i < 500; i++) {
      const x = [r() * 2 * Math.PI];
      const f = decodeOutput(
        float.graph.tensor(float.graph.outputs[0]!),
        (await fr.run([encodeInput(float.graph.tensor(float.graph.inputs[0]!), x)]))[0]!.bytes,
      )[0]!;
      const q = decodeOutput(
        quant.graph.tensor(quant.graph.outputs[0]!),
        (await qr.run([encodeInput(quant.graph.tensor(quant.graph.inputs[0]!), x)]))[0]!.bytes,
      )[0]!;
      out.push(Math.abs(q - f) / lsb);
    }
  } finally {
    fr.close();
    qr.close();
  }
  return out.sort((a, b) => a - b);
}

const summary = (e: number[]) => ({
  mean: e.reduce((a, b) => a + b, 0) / e.length,
  median: quantile(e, 0.5),
  p99: quantile(e, 0.99),
});

(haveModels ? test : test.skip)(
  'hello world: kiln quantize from 200 .npy samples beats or matches Google’s int8 model; stats re-apply byte for byte',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-q-hello-'));
    try {
      const cal = join(dir, 'cal');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(cal);
      const r = rng(1);
      for (let i = 0; i < 200; i++)
        writeFileSync(
          join(cal, `x${String(i).padStart(3, '0')}.npy`),
          npyBytes([1, 1], Float32Array.of(r() * 2 * Math.PI)),
        );
      const src = modelPath('tflm_hello_world_float.tflite');
      const out = join(dir, 'hello_int8.tflite');
      const stats = join(dir, 'stats.json');
      const res = await runQuantize(src, { output: out, calibration: cal, io: 'int8', stats, progress: false });
      t.is(res.report.calibration.samples, 200);
      t.is(res.report.calibration.source, 'npy');
      t.is(res.stats, stats);

      const kiln = loadIr(out);
      t.false(
        kiln.graph.tensors.some((x) => x.dtype === 'float32'),
        'no float32 tensor left',
      );
      t.deepEqual(precheckModel(kiln), []);
      const float = loadIr(src);
      const google = loadIr(modelPath('tflm_hello_world_int8.tflite'));
      const lsb = google.graph.tensor(google.graph.outputs[0]!).quant!.scale[0]!;
      const k = summary(await errors(float, kiln, lsb));
      const g = summary(await errors(float, google, lsb));
      t.log(
        `|int8 − float| in Google's output LSB over 500 inputs: Kiln mean ${k.mean.toFixed(2)} median ${k.median.toFixed(2)} p99 ${k.p99.toFixed(2)}; Google mean ${g.mean.toFixed(2)} median ${g.median.toFixed(2)} p99 ${g.p99.toFixed(2)}`,
      );
      t.true(k.mean <= g.mean, `mean ${k.mean} vs Google ${g.mean}`);
      t.true(k.p99 <= g.p99, `p99 ${k.p99} vs Google ${g.p99}`);

      // quantizing again from the saved stats.json: byte-identical
      const out2 = join(dir, 'again.tflite');
      const res2 = await runQuantize(src, { output: out2, io: 'int8', stats, progress: false });
      t.true(res2.report.calibration.fromStats);
      t.deepEqual(readFileSync(out2), readFileSync(out));

      // default uint8 I/O also runs in the runtime
      const out3 = join(dir, 'u8.tflite');
      await runQuantize(src, { output: out3, calibration: cal, samples: '50', progress: false });
      const rt = await TfliteRuntime.load(readFileSync(out3));
      t.deepEqual([rt.inputs[0]!.dtype, rt.outputs[0]!.dtype], ['uint8', 'uint8']);
      rt.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

(haveModels ? test : test.skip)(
  'already-quantized models pass through unchanged; bad CLI options are one-line errors',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-q-pass-'));
    try {
      const src = modelPath('mobilenet_v1_0.25_128_quant.tflite');
      const out = join(dir, 'out.tflite');
      const res = await runQuantize(src, { output: out, progress: false });
      t.is(res.report.status, 'passthrough');
      t.deepEqual(readFileSync(out), readFileSync(src));
      const e = await t.throwsAsync(runQuantize(src, { output: out, method: 'kl', progress: false }));
      t.is((e as { code?: string }).code, 'E_BAD_ARGUMENT');
      const e2 = await t.throwsAsync(runQuantize(join(dir, 'missing.tflite'), { output: out, progress: false }));
      t.is((e2 as { code?: string }).code, 'E_FILE_NOT_FOUND');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
