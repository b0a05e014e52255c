/**
 * The window functions of ONNX's signal ops (HannWindow, HammingWindow, BlackmanWindow, opset 17): for k = 0 … M − 1,
 *   w[k] = a0 − a1 · cos(2πk / N) + a2 · cos(4πk / N),   N = size (periodic) or size − 1 (symmetric),
 * with each window's coefficients. A constant size gives a constant table; a size computed at run time, the length
 * the model declares for the output (M) and N computed in the graph: the angles are the constant positions k times
 * 2π / N, then COS, MUL and SUB (as ONNX's own function bodies of these ops compute them, in float32).
 */

import { constVal, tensorVal, type OnnxCtx, type Value } from '../context.js';
import { makeConst } from '../tensor.js';
import { F32, ONNX_TO, castTo, typedOp as op, type OnnxOpConverter } from './common.js';

/** [a0, a1, a2] of each window, as ONNX's function bodies define them. */
export const WINDOW_COEFFICIENTS: Record<string, readonly [number, number, number]> = {
  HannWindow: [0.5, 0.5, 0],
  HammingWindow: [25 / 46, 21 / 46, 0],
  BlackmanWindow: [0.42, 0.5, 0.08],
};

/** The window of `length` values with period n (the constant case). */
export function windowValues(a: readonly [number, number, number], length: number, n: number): number[] {
  return Array.from({ length }, (_v, k) => {
    const angle = (2 * Math.PI * k) / n;
    return a[0] - a[1] * Math.cos(angle) + a[2] * Math.cos(2 * angle);
  });
}

function windowOp(a: readonly [number, number, number]): OnnxOpConverter {
  return (c: OnnxCtx): Value[] => {
    const periodic = c.attr.i('periodic', 1) !== 0;
    const code = c.attr.i('output_datatype', 1);
    const to = ONNX_TO[code];
    if (!to || to === 'bool') throw c.refuse(`output_datatype ${code}`, 'TFLite computes the window in float32');
    if (c.rank(0) !== 0 && c.shape(0).join() !== '1') throw c.refuse(`a size of shape [${c.shape(0).join(', ')}]`);
    if (c.isConst(0)) {
      const size = c.ints(0)[0]!;
      const v = windowValues(a, size, periodic ? size : size - 1);
      return [constVal(makeConst(to, [size], to === F32 ? v : v.map(Math.trunc)))];
    }
    const out = c.declared();
    if (!out || out.length !== 1)
      throw c.refuse(
        'input 0 (size) is computed at run time and the model declares no 1-D output shape',
        'Give the size as a constant, or declare the output length',
      );
    const M = out[0]!;
    const b = c.b;
    const k = (v: number, what: string): number => b.constant(`${c.name}/${what}`, F32, [], [v]);
    const math = (type: string, ins: number[], shape: number[], what: string): number =>
      op(c, type, ins, shape, F32, `${c.name}/${what}`, type === 'COS' ? {} : { fusedActivationFunction: 0 });
    const size = b.reshape(castTo(c, c.tensor(0, null), F32, `${c.name}/size_f`), [], { name: `${c.name}/size` });
    const n = periodic ? size : math('SUB', [size, k(1, 'one')], [], 'period');
    const step = math('DIV', [k(2 * Math.PI, 'tau'), n], [], 'step');
    const positions = b.constant(
      `${c.name}/positions`,
      F32,
      [M],
      Array.from({ length: M }, (_v, i) => i),
    );
    const angle = math('MUL', [positions, step], [M], 'angle');
    const first = math('MUL', [math('COS', [angle], [M], 'cos'), k(a[1], 'a1')], [M], 'a1_term');
    let y = math('SUB', [k(a[0], 'a0'), first], [M], a[2] === 0 && to === F32 ? c.out() : 'a0_a1');
    if (a[2] !== 0) {
      const twice = math('MUL', [angle, k(2, 'two')], [M], 'angle2');
      const second = math('MUL', [math('COS', [twice], [M], 'cos2'), k(a[2], 'a2')], [M], 'a2_term');
      y = math('ADD', [y, second], [M], to === F32 ? c.out() : 'window');
    }
    return [tensorVal(castTo(c, y, to, c.out()))];
  };
}

export const WINDOW_OPS: Record<string, OnnxOpConverter> = Object.fromEntries(
  Object.entries(WINDOW_COEFFICIENTS).map(([name, a]) => [name, windowOp(a)]),
);
