import test from 'ava';
import { compileModel } from '../../shared/toolchain/edgetpu/compile-model.js';
import type { IrModel } from '../../shared/toolchain/ir/model.js';
import { toTflite } from '../../shared/toolchain/ir/to-tflite.js';
import { writeTflite } from '../../shared/toolchain/tflite/writer.js';
import { QNet } from '../../shared/toolchain/verify/architectures/qnet.js';
import { DEVICES } from '../../shared/toolchain/verify/latency/devices.js';
import { estimateLatency } from '../../shared/toolchain/verify/latency/estimate.js';
import { opWork } from '../../shared/toolchain/verify/latency/macs.js';
import { latencyPlan } from '../../shared/toolchain/verify/latency/plan.js';

function plan(ir: IrModel, cacheCapacityBytes?: number) {
  const bytes = writeTflite(toTflite(ir));
  const r = compileModel([{ path: 'x.tflite', bytes }], cacheCapacityBytes === undefined ? {} : { cacheCapacityBytes })
    .models[0]!;
  t0(r.failure === null, r.failure?.message ?? '');
  return latencyPlan(ir.graph, r);
}
const t0 = (ok: boolean, msg: string): void => {
  if (!ok) throw new Error(msg);
};

/** conv 3×3 16→32 on 8×8, then an FC 2048 → 10: small, fully mapped. */
function small(withCpuOp = false): IrModel {
  const net = new QNet('small');
  let y = net.conv(net.input([1, 8, 8, 16]), 32, 3);
  y = net.fc(net.flatten(y), 10);
  if (withCpuOp) {
    y = net.b.op(
      'CUSTOM',
      [y],
      {},
      {
        customCode: 'MyPostProcess',
        outputs: [{ name: 'post', dtype: 'int8', shape: [1, 10], quant: net.b.g.tensor(y).quant! }],
      },
    )[0]!;
    y = net.fc(y, 10);
  }
  net.output(y);
  return net.build();
}

test('MACs of a conv and a depthwise conv follow the layer definition', (t) => {
  const net = new QNet('m');
  const x = net.input([1, 10, 10, 3]);
  const c = net.conv(x, 20, 3, { stride: 2 });
  const d = net.dw(c, 3);
  net.output(d);
  const g = net.build().graph;
  const conv = opWork(
    g,
    g.ops.find((o) => o.type === 'CONV_2D')!,
  );
  t.is(conv.cls, 'conv');
  t.is(conv.macs, 5 * 5 * 20 * 3 * 3 * 3);
  t.is(conv.paddedMacs, 5 * 5 * 32 * 32); // Cout 20 → 32, K 27 → 32
  const dw = opWork(
    g,
    g.ops.find((o) => o.type === 'DEPTHWISE_CONV_2D')!,
  );
  t.is(dw.cls, 'depthwise');
  t.is(dw.macs, 5 * 5 * 20 * 9);
});

test('an estimate says it is one and what it is based on; parts add up', (t) => {
  const e = estimateLatency(plan(small()), 'usb3');
  t.true(e.estimate);
  t.regex(e.basis, /calibrated on Coral's published benchmarks/);
  t.regex(e.basis, /Edge TPU ops at 500 MHz/);
  const b = e.breakdown;
  t.true(
    Math.abs(e.estimatedMs - (b.fixedMs + b.transferMs + Math.max(b.computeMs, b.streamMs) + b.cpuMs + b.switchMs)) <
      1e-9,
  );
  t.is(b.streamMs, 0);
  t.is(b.cpuMs, 0);
});

test('streamed parameters cost their bytes at the link bandwidth; USB 2.0 is slower than USB 3.0', (t) => {
  const ir = small();
  const cached = plan(ir);
  const streamed = plan(ir, 0);
  t.is(streamed.cachedBytes, 0);
  t.is(streamed.streamedBytes, cached.cachedBytes);
  const e = estimateLatency(streamed, 'usb2');
  t.true(Math.abs(e.breakdown.streamMs - (streamed.streamedBytes / (DEVICES.usb2.linkMBps * 1e6)) * 1000) < 1e-9);
  t.true(e.estimatedMs > estimateLatency(cached, 'usb2').estimatedMs);
  t.true(estimateLatency(streamed, 'usb2').estimatedMs > estimateLatency(streamed, 'usb3').estimatedMs);
});

test('CPU-fallback ops add host time and a switch; interpreter timings are scaled', (t) => {
  const p = plan(small(true));
  // one Edge TPU subgraph: the custom op and everything after it run on the CPU
  t.deepEqual(
    p.cpuOps.map((o) => o.opcode),
    ['CUSTOM:MyPostProcess', 'FULLY_CONNECTED', 'QUANTIZE'],
  );
  t.is(p.switches, 1);
  const base = estimateLatency(p, 'devboard');
  t.is(base.breakdown.switchMs, DEVICES.devboard.switchMs);
  t.true(base.breakdown.cpuMs > 0);
  const timed = estimateLatency(p, 'devboard', {
    interpreterMs: new Map(p.cpuOps.map((o, i) => [o.index, 100 * (i + 1)])),
  });
  t.true(Math.abs(timed.breakdown.cpuMs - 600 * DEVICES.devboard.interpreterScale) < 1e-9);
  t.regex(timed.basis, /3 timed on Kiln's interpreter/);
});

test('the std USB runtime runs the chip at 250 MHz', (t) => {
  const p = plan(small());
  const max = estimateLatency(p, 'usb3');
  const std = estimateLatency(p, 'usb3', { runtime: 'std' });
  const perOp = (p.tpuOps * DEVICES.usb3.perOpUs) / 1000;
  t.true(Math.abs(std.breakdown.computeMs - perOp - 2 * (max.breakdown.computeMs - perOp)) < 1e-9);
  t.regex(std.basis, /250 MHz/);
});
