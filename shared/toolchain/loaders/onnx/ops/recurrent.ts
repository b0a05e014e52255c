/**
 * ONNX RNN, GRU and LSTM, unrolled over their (static) sequence into TFLite builtins: per time step one
 * FULLY_CONNECTED for the input and one for the hidden state (ONNX's W and R are [gates·hidden, in], which is
 * FULLY_CONNECTED's weight layout; Wb and Rb are their biases), SPLIT into gates, the gate activations
 * (LOGISTIC/TANH/RELU/… by name), and MUL/ADD/SUB for the cell update. Weights may be constants or computed at run
 * time (SLICE per direction/gate then). Outputs are stacked with PACK in ONNX's layout (layout 0: Y [seq, dirs,
 * batch, hidden]; layout 1: Y [batch, seq, dirs, hidden]). sequence_lens computed at run time masks the forward
 * direction (SELECT_V2 keeps the state once a sequence ended, Y is 0 there); a reverse direction over sequences of
 * different lengths is refused (it would start each batch entry at its own last step).
 */

import { emitSlice } from '../../emit.js';
import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import { F32, castTo, type OnnxOpConverter } from './common.js';
import { NodeSteps } from './node-steps.js';

type Kind = 'RNN' | 'GRU' | 'LSTM';

const GATES: Record<Kind, number> = { RNN: 1, GRU: 3, LSTM: 4 };
const DEFAULT_ACTIVATIONS: Record<Kind, string[]> = {
  RNN: ['Tanh'],
  GRU: ['Sigmoid', 'Tanh'],
  LSTM: ['Sigmoid', 'Tanh', 'Tanh'],
};

/** An activation applied to a [batch, hidden] tensor; alpha/beta as the ONNX op gives them. */
type Act = (s: Steps, x: number, alpha: number, beta: number) => number;

/** ONNX's activation functions for recurrent ops → builtins; `alpha`/`beta` give defaults, `null` = takes none. */
const ACTIVATIONS: Record<string, { act: Act; alpha: number | null; beta: number | null }> = {
  Sigmoid: { act: (s, x) => s.unary('LOGISTIC', x), alpha: null, beta: null },
  Tanh: { act: (s, x) => s.unary('TANH', x), alpha: null, beta: null },
  Relu: { act: (s, x) => s.unary('RELU', x), alpha: null, beta: null },
  LeakyRelu: {
    act: (s, x, a) => s.c.b.unary('LEAKY_RELU', x, { name: s.fresh('leaky') }, { alpha: a }),
    alpha: 0.01,
    beta: null,
  },
  Affine: { act: (s, x, a, b) => s.add(s.mul(x, s.k(a)), s.k(b)), alpha: 1, beta: 0 },
  ScaledTanh: { act: (s, x, a, b) => s.mul(s.unary('TANH', s.mul(x, s.k(b))), s.k(a)), alpha: 1, beta: 1 },
  HardSigmoid: {
    act: (s, x, a, b) => s.minimum(s.maximum(s.add(s.mul(x, s.k(a)), s.k(b)), s.k(0)), s.k(1)),
    alpha: 0.2,
    beta: 0.5,
  },
  Softsign: { act: (s, x) => s.div(x, s.add(s.unary('ABS', x), s.k(1))), alpha: null, beta: null },
  Softplus: { act: (s, x) => s.unary('LOG', s.add(s.unary('EXP', x), s.k(1))), alpha: null, beta: null },
};

/** Small emitters with unique tensor names under the node's name. */
class Steps extends NodeSteps {
  add(a: number, b: number, name?: string): number {
    return this.bin('ADD', a, b, name);
  }
  sub(a: number, b: number): number {
    return this.bin('SUB', a, b);
  }
  mul(a: number, b: number): number {
    return this.bin('MUL', a, b);
  }
  div(a: number, b: number): number {
    return this.bin('DIV', a, b);
  }
  maximum(a: number, b: number): number {
    return this.op('MAXIMUM', [a, b]);
  }
  minimum(a: number, b: number): number {
    return this.op('MINIMUM', [a, b]);
  }
  /** x·Wᵀ + b for x [batch, in], w [units, in]. */
  fc(x: number, w: number, bias: number | null): number {
    return this.c.b.fullyConnected(x, w, bias, {}, { name: this.fresh('fc') });
  }
  split(x: number, parts: number): number[] {
    if (parts === 1) return [x];
    const [rows, cols] = this.c.b.g.tensor(x).shape as [number, number];
    return this.c.b.op(
      'SPLIT',
      [this.c.b.constant(this.fresh('axis'), 'int32', [], [1]), x],
      { numSplits: parts },
      {
        outputs: Array.from({ length: parts }, () => ({
          name: this.fresh('gate'),
          shape: [rows, cols / parts],
          dtype: F32,
        })),
      },
    );
  }
  /** Stacks equal-shaped tensors along a new `axis` (PACK; a reshape for one). */
  pack(xs: number[], axis: number, name: string): number {
    const s = [...this.c.b.g.tensor(xs[0]!).shape];
    s.splice(axis, 0, xs.length);
    if (xs.length === 1) return this.c.b.reshape(xs[0]!, s, { name });
    return this.c.b.op('PACK', xs, { valuesCount: xs.length, axis }, { outputs: [{ name, shape: s, dtype: F32 }] })[0]!;
  }
  /**
   * Elements [begin, begin + size) of input i as a tensor of `shape`: cut at conversion from a constant, by SLICE
   * from a tensor computed at run time.
   */
  part(i: number, begin: number[], size: number[], shape: number[]): number {
    const c = this.c;
    if (c.isConst(i)) {
      const k = c.const(i);
      const full = k.shape;
      const out: number[] = [];
      const idx = new Array<number>(size.length).fill(0);
      const total = size.reduce((a, b) => a * b, 1);
      for (let q = 0; q < total; q++) {
        let rem = q;
        for (let d = size.length - 1; d >= 0; d--) {
          idx[d] = rem % size[d]!;
          rem = Math.floor(rem / size[d]!);
        }
        let off = 0;
        for (let d = 0; d < full.length; d++) off = off * full[d]! + begin[d]! + idx[d]!;
        out.push(k.v[off]!);
      }
      return c.b.constant(this.fresh('w'), F32, shape, out);
    }
    const x = c.tensor(i, null);
    const sl = emitSlice(c.b, x, begin, size, this.fresh('slice'));
    return c.b.reshape(sl, shape, { name: this.fresh('part') });
  }
}

interface Dims {
  seq: number;
  batch: number;
  input: number;
  hidden: number;
  dirs: number;
  layout: number;
}

/** One direction's weights, as FULLY_CONNECTED operands. */
interface DirWeights {
  w: number;
  wb: number | null;
  r: number;
  rb: number | null;
  /** GRU with linear_before_reset=0: the z/r rows of R and the h rows, kept apart. */
  rZr?: number;
  rbZr?: number | null;
  rH?: number;
  rbH?: number | null;
  /** LSTM peepholes [hidden] for i, o, f. */
  p?: [number, number, number];
}

function weights(s: Steps, kind: Kind, d: number, dm: Dims, lbr: boolean): DirWeights {
  const c = s.c;
  const G = GATES[kind];
  const H = dm.hidden;
  const rows = (i: number, from: number, n: number, cols: number): number =>
    s.part(i, [d, from, 0], [1, n, cols], [n, cols]);
  const bias = (from: number, n: number): number | null => (c.has(3) ? s.part(3, [d, from], [1, n], [n]) : null);
  const out: DirWeights = {
    w: rows(1, 0, G * H, dm.input),
    wb: bias(0, G * H),
    r: rows(2, 0, G * H, H),
    rb: bias(G * H, G * H),
  };
  if (kind === 'GRU' && !lbr) {
    out.rZr = rows(2, 0, 2 * H, H);
    out.rbZr = bias(G * H, 2 * H);
    out.rH = rows(2, 2 * H, H, H);
    out.rbH = bias(G * H + 2 * H, H);
  }
  if (kind === 'LSTM' && c.has(7)) {
    const p = (k: number): number => s.part(7, [d, k * H], [1, H], [H]);
    out.p = [p(0), p(1), p(2)];
  }
  return out;
}

interface Cell {
  h: number;
  c?: number;
}

function step(
  s: Steps,
  kind: Kind,
  acts: { act: Act; alpha: number; beta: number }[],
  clip: number | null,
  w: DirWeights,
  x: number,
  prev: Cell,
  lbr: boolean,
  inputForget: boolean,
): Cell {
  const f = (k: number, v: number): number => {
    const a = acts[k]!;
    const clipped = clip === null ? v : s.minimum(s.maximum(v, s.k(-clip)), s.k(clip));
    return a.act(s, clipped, a.alpha, a.beta);
  };
  const xg = s.fc(x, w.w, w.wb);
  if (kind === 'RNN') return { h: f(0, s.add(xg, s.fc(prev.h, w.r, w.rb))) };
  if (kind === 'GRU') {
    const [xz, xr, xh] = s.split(xg, 3) as [number, number, number];
    let z: number;
    let r: number;
    let hh: number;
    if (lbr) {
      const [hz, hr, hn] = s.split(s.fc(prev.h, w.r, w.rb), 3) as [number, number, number];
      z = f(0, s.add(xz, hz));
      r = f(0, s.add(xr, hr));
      hh = f(1, s.add(xh, s.mul(r, hn)));
    } else {
      const [hz, hr] = s.split(s.fc(prev.h, w.rZr!, w.rbZr ?? null), 2) as [number, number];
      z = f(0, s.add(xz, hz));
      r = f(0, s.add(xr, hr));
      hh = f(1, s.add(xh, s.fc(s.mul(r, prev.h), w.rH!, w.rbH ?? null)));
    }
    // H = (1 − z)·h̃ + z·H₋₁
    return { h: s.add(s.mul(s.sub(s.k(1), z), hh), s.mul(z, prev.h)) };
  }
  const [gi, go, gf, gc] = s.split(s.add(xg, s.fc(prev.h, w.r, w.rb)), 4) as [number, number, number, number];
  const peep = (g: number, k: number, cell: number): number => (w.p ? s.add(g, s.mul(w.p[k]!, cell)) : g);
  const i = f(0, peep(gi, 0, prev.c!));
  const fg = inputForget ? s.sub(s.k(1), i) : f(0, peep(gf, 2, prev.c!));
  const cNew = s.add(s.mul(fg, prev.c!), s.mul(i, f(1, gc)));
  const o = f(0, peep(go, 1, cNew));
  return { h: s.mul(o, f(2, cNew)), c: cNew };
}

function activations(c: OnnxCtx, kind: Kind, dirs: number): { act: Act; alpha: number; beta: number }[][] {
  const names = c.attr.strings('activations') ?? [];
  const per = DEFAULT_ACTIVATIONS[kind].length;
  const list = names.length ? names : Array.from({ length: dirs }, () => DEFAULT_ACTIVATIONS[kind]).flat();
  if (list.length !== per * dirs)
    throw c.refuse(`${list.length} activations for ${dirs} direction(s); ${kind} takes ${per} per direction`);
  const alphas = [...(c.attr.floats('activation_alpha') ?? [])];
  const betas = [...(c.attr.floats('activation_beta') ?? [])];
  const resolved = list.map((n) => {
    const spec = Object.entries(ACTIVATIONS).find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1];
    if (!spec)
      throw c.refuse(
        `activation ${n}`,
        `Kiln unrolls recurrent ops with ${Object.keys(ACTIVATIONS).join(', ')} as their activations`,
      );
    const alpha = spec.alpha === null ? 0 : (alphas.shift() ?? spec.alpha);
    const beta = spec.beta === null ? 0 : (betas.shift() ?? spec.beta);
    return { act: spec.act, alpha, beta };
  });
  return Array.from({ length: dirs }, (_v, d) => resolved.slice(d * per, (d + 1) * per));
}

export function recurrent(kind: Kind): OnnxOpConverter {
  return (c) => {
    for (const i of [0, 1, 2, 3, 5, 6, 7])
      if (c.has(i) && i < c.n && c.dtype(i) !== F32 && !(c.isConst(i) && c.dtype(i) === 'float64'))
        throw c.refuse(`input ${i} is ${c.dtype(i)}; TFLite's FULLY_CONNECTED computes float32`);
    const direction = c.attr.s('direction', 'forward');
    const dirList = direction === 'bidirectional' ? [false, true] : direction === 'reverse' ? [true] : [false];
    if (!['forward', 'reverse', 'bidirectional'].includes(direction)) throw c.refuse(`direction "${direction}"`);
    const layout = c.attr.i('layout', 0);
    const xs = c.shape(0);
    const [seq, batch, input] = (layout === 1 ? [xs[1], xs[0], xs[2]] : xs) as [number, number, number];
    const hidden = c.attr.i('hidden_size') ?? c.shape(2)[2]!;
    const dm: Dims = { seq, batch, input, hidden, dirs: dirList.length, layout };
    const G = GATES[kind];
    const want = (i: number, shape: number[], what: string): void => {
      if (c.has(i) && c.shape(i).join() !== shape.join())
        throw c.refuse(`${what} has shape [${c.shape(i).join(', ')}], expected [${shape.join(', ')}]`);
    };
    want(1, [dm.dirs, G * hidden, input], 'W');
    want(2, [dm.dirs, G * hidden, hidden], 'R');
    want(3, [dm.dirs, 2 * G * hidden], 'B');
    if (kind === 'LSTM') want(7, [dm.dirs, 3 * hidden], 'P');
    const lbr = c.attr.i('linear_before_reset', 0) === 1;
    const inputForget = c.attr.i('input_forget', 0) === 1;
    const clip = c.attr.has('clip') ? c.attr.f('clip', 0) : null;
    const acts = activations(c, kind, dm.dirs);
    const s = new Steps(c);

    // which steps count for each batch entry: all (no sequence_lens, or all full), or a run-time mask
    let valid: ((t: number) => number) | null = null;
    if (c.has(4)) {
      const full = c.isConst(4) && Array.from(c.const(4).v).every((v) => v === seq);
      if (!full) {
        if (dirList.some((rev) => rev))
          throw c.refuse(
            'a reverse direction over sequence_lens that may be shorter than the sequence',
            'Give sequences of the full length (or drop sequence_lens) for a reverse or bidirectional RNN',
          );
        const lens = c.tensor(4, null, c.isConst(4) ? 'int32' : undefined);
        const lens32 = castTo(c, lens, 'int32', s.fresh('lens_i32'));
        const lens2 = c.b.reshape(lens32, [batch, 1], { name: s.fresh('lens') });
        valid = (t) =>
          c.b.op(
            'LESS',
            [c.b.constant(s.fresh('t'), 'int32', [], [t]), lens2],
            {},
            {
              outputs: [{ name: s.fresh('valid'), shape: [batch, 1], dtype: 'bool' }],
            },
          )[0]!;
      }
    }

    const xAll = c.tensor(0, null);
    const xAt = (t: number): number => {
      const begin = layout === 1 ? [0, t, 0] : [t, 0, 0];
      const size = layout === 1 ? [batch, 1, input] : [1, batch, input];
      const sl = emitSlice(c.b, xAll, begin, size, s.fresh('x'));
      return c.b.reshape(sl, [batch, input], { name: s.fresh('x_t') });
    };
    const xSteps = Array.from({ length: seq }, (_v, t) => xAt(t));
    const zeros = (): number => c.b.constant(s.fresh('zeros'), F32, [batch, hidden], new Float32Array(batch * hidden));
    const initial = (i: number, d: number): number => {
      if (!c.has(i)) return zeros();
      // initial_h / initial_c are [dirs, batch, hidden] (layout 1: [batch, dirs, hidden])
      const begin = layout === 1 ? [0, d, 0] : [d, 0, 0];
      const size = layout === 1 ? [batch, 1, hidden] : [1, batch, hidden];
      return s.part(i, begin, size, [batch, hidden]);
    };

    const ys: number[][] = [];
    const lastH: number[] = [];
    const lastC: number[] = [];
    dirList.forEach((reverse, d) => {
      const w = weights(s, kind, d, dm, lbr);
      let cell: Cell = { h: initial(5, d), ...(kind === 'LSTM' ? { c: initial(6, d) } : {}) };
      const hs = new Array<number>(seq);
      for (let k = 0; k < seq; k++) {
        const t = reverse ? seq - 1 - k : k;
        const next = step(s, kind, acts[d]!, clip, w, xSteps[t]!, cell, lbr, inputForget);
        if (valid) {
          const m = valid(t);
          const sel = (a: number, b: number): number =>
            c.b.op(
              'SELECT_V2',
              [m, a, b],
              {},
              { outputs: [{ name: s.fresh('sel'), shape: [batch, hidden], dtype: F32 }] },
            )[0]!;
          hs[t] = sel(next.h, zeros());
          cell = { h: sel(next.h, cell.h), ...(next.c !== undefined ? { c: sel(next.c, cell.c!) } : {}) };
        } else {
          hs[t] = next.h;
          cell = next;
        }
      }
      ys.push(hs);
      lastH.push(cell.h);
      if (cell.c !== undefined) lastC.push(cell.c);
    });

    const wanted = (k: number): boolean => Boolean(c.node.output[k]);
    // Y: layout 0 [seq, dirs, batch, hidden], layout 1 [batch, seq, dirs, hidden]
    const dirAxis = layout === 1 ? 1 : 0;
    const outs: Value[] = [];
    const stateOut = (list: number[], k: number): number => s.pack(list, dirAxis, c.out(k));
    const yh = wanted(1) || !(wanted(0) || wanted(2)) ? stateOut(lastH, 1) : null;
    const y = wanted(0)
      ? s.pack(
          Array.from({ length: seq }, (_v, t) =>
            s.pack(
              ys.map((hs) => hs[t]!),
              dirAxis,
              s.fresh('y_t'),
            ),
          ),
          dirAxis,
          c.out(0),
        )
      : null;
    const yc = kind === 'LSTM' && wanted(2) ? stateOut(lastC, 2) : null;
    const any = (y ?? yh ?? yc)!;
    outs.push(tensorVal(y ?? any), tensorVal(yh ?? any));
    if (kind === 'LSTM') outs.push(tensorVal(yc ?? any));
    return outs;
  };
}
