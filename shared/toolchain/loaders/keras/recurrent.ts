import { KilnError } from '../../../common/errors.js';
import { emitActivation, emitReshape, transpose } from '../emit.js';
import { toFloat32 } from '../tensor.js';
import type { LayerCtx } from './layers.js';

/**
 * GRU, LSTM and SimpleRNN layers, unrolled over the (static) sequence length into FULLY_CONNECTED, SLICE and
 * element-wise ops, batch 1. Gate order and equations are Keras's: GRU (z, r, h) with reset_after either way, LSTM
 * (i, f, c, o).
 */
export function emitRecurrent(c: LayerCtx, kind: 'GRU' | 'LSTM' | 'SimpleRNN'): number[] {
  const cfg = c.cfg;
  const refuse = (why: string): KilnError => new KilnError('E_UNSUPPORTED_OP', `layer ${c.name} (${kind}): ${why}`);
  if (cfg['stateful']) throw refuse('stateful recurrent layers have no static TFLite form');
  if (cfg['return_state']) throw refuse('return_state is not supported');
  const shape = c.shape();
  if (shape.length !== 3 || shape[0] !== 1)
    throw refuse(`input shape [${shape.join(',')}] (expected [1, steps, features])`);
  const [, steps, feats] = shape as [number, number, number];
  const units = Number(cfg['units']);
  const gates = kind === 'GRU' ? 3 : kind === 'LSTM' ? 4 : 1;
  const kernel = c.weight('kernel');
  const recurrent = c.weight('recurrent_kernel');
  const useBias = cfg['use_bias'] !== false;
  const biasT = useBias ? c.weight('bias') : undefined;
  const resetAfter = kind === 'GRU' && Boolean(cfg['reset_after']);
  const biasAll = biasT ? toFloat32(biasT) : new Float32Array((resetAfter ? 2 : 1) * gates * units);
  const inBias = biasAll.subarray(0, gates * units);
  const recBias = resetAfter ? biasAll.subarray(gates * units, 2 * gates * units) : null;
  // Transposed weight blocks: [gates·units, feats] and [gates·units, units]; rows g·units … (g+1)·units are gate g.
  const W = transpose(toFloat32(kernel), kernel.shape, [1, 0]).data;
  const U = transpose(toFloat32(recurrent), recurrent.shape, [1, 0]).data;
  const b = c.b;
  const n = c.name;
  const act = (x: number, which: 'activation' | 'recurrent_activation', name: string): number =>
    emitActivation(b, x, cfg[which] ?? (which === 'activation' ? 'tanh' : 'sigmoid'), name);

  const x2 = emitReshape(b, c.inputs[0]!, [steps, feats], `${n}/x2d`);
  const xg: number[] = [];
  const uw: number[] = [];
  const ub: number[] = [];
  for (let g = 0; g < gates; g++) {
    const w = b.constant(
      `${n}/W${g}`,
      'float32',
      [units, feats],
      W.subarray(g * units * feats, (g + 1) * units * feats),
    );
    const bi = b.constant(`${n}/b${g}`, 'float32', [units], inBias.subarray(g * units, (g + 1) * units));
    xg.push(b.fullyConnected(x2, w, bi, {}, { name: `${n}/x${g}` }));
    uw.push(
      b.constant(`${n}/U${g}`, 'float32', [units, units], U.subarray(g * units * units, (g + 1) * units * units)),
    );
    ub.push(
      b.constant(
        `${n}/rb${g}`,
        'float32',
        [units],
        recBias ? recBias.subarray(g * units, (g + 1) * units) : new Float32Array(units),
      ),
    );
  }
  const zero = b.constant(`${n}/h0`, 'float32', [1, units], new Float32Array(units));
  let h = zero;
  let cell = zero;
  const seq: number[] = [];
  const order = Array.from({ length: steps }, (_v, i) => (cfg['go_backwards'] ? steps - 1 - i : i));
  const size = b.constant(`${n}/slice_size`, 'int32', [2], [1, units]);
  const rec = (x: number, g: number): number => b.fullyConnected(x, uw[g]!, ub[g]!);
  order.forEach((t, k) => {
    const p = `${n}/t${k}`;
    const begin = b.constant(`${p}/begin`, 'int32', [2], [t, 0]);
    const xt = xg.map((x) => b.op('SLICE', [x, begin, size])[0]!);
    if (kind === 'SimpleRNN') {
      h = act(b.binary('ADD', xt[0]!, rec(h, 0)), 'activation', `${p}/h`);
    } else if (kind === 'GRU') {
      const z = act(b.binary('ADD', xt[0]!, rec(h, 0)), 'recurrent_activation', `${p}/z`);
      const r = act(b.binary('ADD', xt[1]!, rec(h, 1)), 'recurrent_activation', `${p}/r`);
      const hh = resetAfter
        ? act(b.binary('ADD', xt[2]!, b.binary('MUL', r, rec(h, 2))), 'activation', `${p}/hh`)
        : act(b.binary('ADD', xt[2]!, rec(b.binary('MUL', r, h), 2)), 'activation', `${p}/hh`);
      // h' = z·h + (1 − z)·hh = hh + z·(h − hh)
      h = b.binary('ADD', hh, b.binary('MUL', z, b.binary('SUB', h, hh)), {}, { name: `${p}/h` });
    } else {
      const i = act(b.binary('ADD', xt[0]!, rec(h, 0)), 'recurrent_activation', `${p}/i`);
      const f = act(b.binary('ADD', xt[1]!, rec(h, 1)), 'recurrent_activation', `${p}/f`);
      const cc = act(b.binary('ADD', xt[2]!, rec(h, 2)), 'activation', `${p}/cc`);
      const o = act(b.binary('ADD', xt[3]!, rec(h, 3)), 'recurrent_activation', `${p}/o`);
      cell = b.binary('ADD', b.binary('MUL', f, cell), b.binary('MUL', i, cc), {}, { name: `${p}/c` });
      h = b.binary('MUL', o, act(cell, 'activation', `${p}/tanh_c`), {}, { name: `${p}/h` });
    }
    seq.push(h);
  });
  if (cfg['return_sequences']) {
    const all = seq.length === 1 ? seq[0]! : b.concat(seq, 0);
    return [emitReshape(b, all, [1, steps, units], n)];
  }
  return [emitReshape(b, h, [1, units], n)];
}
