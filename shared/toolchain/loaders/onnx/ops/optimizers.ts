/**
 * The optimizer steps of ONNX's training domain (ai.onnx.preview.training Adagrad, Momentum, Adam): element-wise
 * updates, written with arithmetic builtins after ONNX's operator spec. R (learning rate) and T (update count) are
 * scalars read at run time; each op updates several tensors at once (X1..Xn, their gradients, their accumulators)
 * and returns the new tensors first, then the new accumulators, in the input order.
 */

import { tensorVal, type OnnxCtx, type Value } from '../context.js';
import { F32, castTo, typedOp, type OnnxOpConverter } from './common.js';

/** The epsilon ONNX's schema gives Adagrad and Adam when the attribute is left out. */
const EPSILON = 1e-6;

/** The domain these ops live in. */
export const TRAINING_DOMAIN = 'ai.onnx.preview.training';

interface Step {
  c: OnnxCtx;
  /** Scalar float constant. */
  k(v: number, what: string): number;
  op(type: string, a: number, b: number, what: string): number;
  un(type: string, a: number, what: string): number;
  /** The learning rate and the update count, as float32 scalars. */
  r: number;
  t: number;
  /** T > 0 (bool scalar, emitted when first asked for): the corrections apply from the second update on. */
  started(): number;
}

function step(c: OnnxCtx, perTensor: number, name: string): { s: Step; n: number } {
  if (c.n < 2 + perTensor || (c.n - 2) % perTensor !== 0)
    throw c.refuse(`${c.n} inputs; ${name} takes R, T and ${perTensor} tensors per optimized tensor`);
  for (let i = 2; i < c.n; i++) if (c.dtype(i) !== F32) throw c.refuse(`input ${i} is ${c.dtype(i)}, not float32`);
  let serial = 0;
  let started: number | undefined;
  const tag = (what: string): string => `${c.name}/${what}${serial++}`;
  const shapeOf = (x: number): number[] => c.b.g.tensor(x).shape;
  const bshape = (a: number, b: number): number[] => (shapeOf(a).length >= shapeOf(b).length ? shapeOf(a) : shapeOf(b));
  const s: Step = {
    c,
    k: (v, what) => c.b.constant(tag(what), F32, [], [v]),
    op: (type, a, b, what) => typedOp(c, type, [a, b], bshape(a, b), F32, tag(what)),
    un: (type, a, what) => typedOp(c, type, [a], shapeOf(a), F32, tag(what)),
    r: c.tensor(0, null, F32),
    t: castTo(c, c.tensor(1, null), F32, `${c.name}/t`),
    started: () => (started ??= typedOp(c, 'GREATER', [s.t, s.k(0, 'zero')], [], 'bool', `${c.name}/started`)),
  };
  return { s, n: (c.n - 2) / perTensor };
}

/** norm_coefficient · X + G */
const regularized = (s: Step, x: number, g: number, norm: number): number =>
  norm === 0 ? g : s.op('ADD', s.op('MUL', s.k(norm, 'norm'), x, 'decayed'), g, 'g_reg');

/** a · prev + b · next, the running averages (momentum and moments): `b` a scalar tensor. */
const blend = (s: Step, a: number, prev: number, b: number, next: number, what: string): number =>
  s.op('ADD', s.op('MUL', s.k(a, `${what}_a`), prev, `${what}_prev`), s.op('MUL', b, next, `${what}_next`), what);

const outputs = (c: OnnxCtx, groups: number[][]): Value[] =>
  groups.flat().map((id, k) => tensorVal(c.b.reshape(id, c.b.g.tensor(id).shape, { name: c.out(k) })));

export const adagrad: OnnxOpConverter = (c) => {
  const { s, n } = step(c, 3, 'Adagrad');
  const decay = c.attr.f('decay_factor', 0);
  const eps = c.attr.f('epsilon', EPSILON);
  const norm = c.attr.f('norm_coefficient', 0);
  // r = R / (1 + T·decay_factor)
  const r = s.op('DIV', s.r, s.op('ADD', s.k(1, 'one'), s.op('MUL', s.t, s.k(decay, 'decay'), 'td'), 'den'), 'r');
  const xs: number[] = [];
  const hs: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = c.tensor(2 + i, null);
    const g = regularized(s, x, c.tensor(2 + n + i, null), norm);
    const h = s.op('ADD', c.tensor(2 + 2 * n + i, null), s.op('MUL', g, g, 'g2'), 'h_new');
    const adaptive = s.op('ADD', s.un('SQRT', h, 'sqrt_h'), s.k(eps, 'eps'), 'h_adaptive');
    xs.push(s.op('SUB', x, s.op('DIV', s.op('MUL', r, g, 'rg'), adaptive, 'delta'), 'x_new'));
    hs.push(h);
  }
  return outputs(c, [xs, hs]);
};

export const momentum: OnnxOpConverter = (c) => {
  const { s, n } = step(c, 3, 'Momentum');
  // Momentum's attributes have no defaults in ONNX's schema: each is required
  const missing = ['alpha', 'beta', 'mode', 'norm_coefficient'].filter((k) => !c.attr.has(k));
  if (missing.length)
    throw c.refuse(`lacks the required attribute${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  const alpha = c.attr.f('alpha', 0);
  const beta = c.attr.f('beta', 0);
  const norm = c.attr.f('norm_coefficient', 0);
  const mode = c.attr.s('mode', '');
  if (mode !== 'standard' && mode !== 'nesterov') throw c.refuse(`mode "${mode}" (standard or nesterov)`);
  // the first update (T = 0) takes the gradient whole: beta_adjusted = T > 0 ? beta : 1
  const betaAdj = typedOp(c, 'SELECT_V2', [s.started(), s.k(beta, 'beta'), s.k(1, 'one')], [], F32, `${c.name}/beta`);
  const xs: number[] = [];
  const vs: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = c.tensor(2 + i, null);
    const g = regularized(s, x, c.tensor(2 + n + i, null), norm);
    const v = blend(s, alpha, c.tensor(2 + 2 * n + i, null), betaAdj, g, 'v_new');
    const dir = mode === 'standard' ? v : s.op('ADD', g, s.op('MUL', s.k(alpha, 'alpha'), v, 'av_new'), 'nesterov');
    xs.push(s.op('SUB', x, s.op('MUL', s.r, dir, 'delta'), 'x_new'));
    vs.push(v);
  }
  return outputs(c, [xs, vs]);
};

export const adam: OnnxOpConverter = (c) => {
  const { s, n } = step(c, 4, 'Adam');
  const alpha = c.attr.f('alpha', 0.9);
  const beta = c.attr.f('beta', 0.999);
  const eps = c.attr.f('epsilon', EPSILON);
  const norm = c.attr.f('norm_coefficient', 0);
  const post = c.attr.f('norm_coefficient_post', 0);
  // R_adjusted = T > 0 ? R·√(1 − beta^T) / (1 − alpha^T) : R
  const one = s.k(1, 'one');
  const pw = (base: number): number =>
    s.op('SUB', one, typedOp(c, 'POW', [s.k(base, 'base'), s.t], [], F32, `${c.name}/pow${base}`), 'one_minus');
  const adjusted = s.op('DIV', s.op('MUL', s.r, s.un('SQRT', pw(beta), 'sqrt'), 'r_sqrt'), pw(alpha), 'r_adj');
  const r = typedOp(c, 'SELECT_V2', [s.started(), adjusted, s.r], [], F32, `${c.name}/r`);
  const xs: number[] = [];
  const vs: number[] = [];
  const hs: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = c.tensor(2 + i, null);
    const g = regularized(s, x, c.tensor(2 + n + i, null), norm);
    const v = blend(s, alpha, c.tensor(2 + 2 * n + i, null), s.k(1 - alpha, 'one_minus_alpha'), g, 'v_new');
    const g2 = s.op('MUL', g, g, 'g2');
    const h = blend(s, beta, c.tensor(2 + 3 * n + i, null), s.k(1 - beta, 'one_minus_beta'), g2, 'h_new');
    const denom = s.op('ADD', s.un('SQRT', h, 'sqrt_h'), s.k(eps, 'eps'), 'h_sqrt');
    let xn = s.op('SUB', x, s.op('DIV', s.op('MUL', r, v, 'rv'), denom, 'delta'), 'x_new');
    if (post !== 0) xn = s.op('MUL', s.k(1 - post, 'post'), xn, 'x_final');
    xs.push(xn);
    vs.push(v);
    hs.push(h);
  }
  return outputs(c, [xs, vs, hs]);
};

/** The training domain's ops Kiln converts; the others (Gradient: automatic differentiation) it refuses. */
export const TRAINING_OPS: Readonly<Record<string, OnnxOpConverter>> = {
  Adagrad: adagrad,
  Momentum: momentum,
  Adam: adam,
};
