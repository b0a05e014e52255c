/**
 * Einsum on static shapes, as TRANSPOSE / RESHAPE / MUL / SUM / BATCH_MATMUL:
 *
 * - `...` stands for the leading dimensions of each operand not named by letters (aligned from the right, as numpy
 *   does; their sizes must agree, broadcasting a 1 against a larger size is refused);
 * - a letter repeated within one operand (a diagonal, `ii->i`) is a product with a constant identity mask summed over
 *   one of the two axes;
 * - a letter found in one operand only and not in the output is summed over right away;
 * - two operands contract as one BATCH_MATMUL: [batch, left, contracted] × [batch, contracted, right];
 * - the result is transposed to the output's order. Without `->`, the output is `...` then the letters used once, in
 *   alphabetical order.
 */

import type { DType } from '../../../ir/dtype.js';
import { numElements } from '../../../ir/graph.js';
import { tensorVal, transpose, type OnnxCtx, type Value } from '../context.js';
import { F32, floatOnly } from './common.js';

/** An operand during the contraction: its tensor and one label per axis. */
interface Term {
  id: number;
  labels: string[];
}

/** Labels for the axes `...` stands for (characters an equation cannot use). */
const ellipsisLabel = (k: number): string => `#${k}`;

function splitLabels(term: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < term.length; i++) {
    if (term.startsWith('...', i)) {
      out.push('...');
      i += 2;
    } else out.push(term[i]!);
  }
  return out;
}

/** The equation's operand and output labels, `...` expanded to per-axis labels. */
export function parseEquation(
  equation: string,
  ranks: number[],
): { inputs: string[][]; output: string[] } | { error: string } {
  const eq = equation.replace(/\s+/g, '');
  const [lhs, rhs] = eq.split('->') as [string, string | undefined];
  const terms = lhs.split(',');
  if (terms.length !== ranks.length) return { error: `${terms.length} terms for ${ranks.length} inputs` };
  const raws = terms.map(splitLabels);
  // how many axes `...` stands for in each operand
  const spans: number[] = [];
  for (let k = 0; k < terms.length; k++) {
    const raw = raws[k]!;
    if (raw.some((l) => l !== '...' && !/^[a-zA-Z]$/.test(l))) return { error: `term "${terms[k]}"` };
    const named = raw.filter((l) => l !== '...').length;
    const dots = raw.filter((l) => l === '...').length;
    if (dots > 1 || (dots === 0 && named !== ranks[k]) || named > ranks[k]!)
      return { error: `term "${terms[k]}" for an input of rank ${ranks[k]}` };
    spans.push(dots ? ranks[k]! - named : 0);
  }
  const ell = Math.max(0, ...spans);
  // `...` axes align from the right
  const inputs = raws.map((raw, k) =>
    raw.flatMap((l) =>
      l === '...' ? Array.from({ length: spans[k]! }, (_v, i) => ellipsisLabel(ell - spans[k]! + i)) : [l],
    ),
  );
  const ellLabels = Array.from({ length: ell }, (_v, i) => ellipsisLabel(i));
  let output: string[];
  if (rhs === undefined) {
    const count = new Map<string, number>();
    for (const l of inputs.flat()) if (!l.startsWith('#')) count.set(l, (count.get(l) ?? 0) + 1);
    output = [
      ...ellLabels,
      ...[...count]
        .filter(([, n]) => n === 1)
        .map(([l]) => l)
        .sort(),
    ];
  } else {
    const raw = splitLabels(rhs);
    if (raw.some((l) => l !== '...' && !/^[a-zA-Z]$/.test(l))) return { error: `output "${rhs}"` };
    output = raw.flatMap((l) => (l === '...' ? ellLabels : [l]));
    if (new Set(output).size !== output.length) return { error: `output "${rhs}" repeats a label` };
    const all = new Set(inputs.flat());
    const missing = output.find((l) => !all.has(l));
    if (missing) return { error: `output label "${missing}" is in no input` };
  }
  return { inputs, output };
}

export function einsum(c: OnnxCtx): Value[] {
  const n = c.n;
  for (let i = 0; i < n; i++) floatOnly(c, i);
  const equation = c.attr.s('equation', '');
  const parsed = parseEquation(
    equation,
    Array.from({ length: n }, (_v, i) => c.rank(i)),
  );
  if ('error' in parsed) throw c.refuse(`equation "${equation}": ${parsed.error}`);
  const size = new Map<string, number>();
  for (let i = 0; i < n; i++)
    parsed.inputs[i]!.forEach((l, a) => {
      const d = c.shape(i)[a]!;
      const had = size.get(l);
      if (had !== undefined && had !== d)
        throw c.refuse(
          `equation "${equation}": label ${l.startsWith('#') ? '...' : l} has sizes ${had} and ${d}`,
          'Kiln does not broadcast Einsum operands; expand them to equal sizes first',
        );
      size.set(l, d);
    });
  const e = new Emitter(c, size);
  let terms = parsed.inputs.map((labels, i) => e.diagonals({ id: c.tensor(i, null), labels }));
  // labels only one operand has and the output lacks: summed over at once
  terms = terms.map((t, i) => {
    const elsewhere = new Set([...parsed.output, ...terms.filter((_u, j) => j !== i).flatMap((u) => u.labels)]);
    return e.sumOut(
      t,
      t.labels.filter((l) => !elsewhere.has(l)),
    );
  });
  let acc = terms[0]!;
  for (let i = 1; i < terms.length; i++) {
    const keep = new Set([...parsed.output, ...terms.slice(i + 1).flatMap((u) => u.labels)]);
    acc = e.contract(acc, terms[i]!, keep);
  }
  return [tensorVal(e.arrange(acc, parsed.output, c.out()))];
}

class Emitter {
  private k = 0;
  constructor(
    private readonly c: OnnxCtx,
    private readonly size: ReadonlyMap<string, number>,
  ) {}

  private name(what: string): string {
    return `${this.c.name}/${what}${this.k++}`;
  }

  private dims(labels: string[]): number[] {
    return labels.map((l) => this.size.get(l)!);
  }

  private op(type: string, inputs: number[], fields: Record<string, unknown>, shape: number[], name?: string): number {
    const dtype: DType = F32;
    return this.c.b.op(type, inputs, fields, {
      outputs: [{ name: name ?? this.name(type.toLowerCase()), shape, dtype }],
    })[0]!;
  }

  /** `t` with its axes in the order of `labels`. */
  private permute(t: Term, labels: string[]): Term {
    const perm = labels.map((l) => t.labels.indexOf(l));
    if (perm.every((p, i) => p === i)) return t;
    return { id: transpose(this.c.b, t.id, perm, this.name('transpose')), labels };
  }

  private reshape(id: number, shape: number[], name?: string): number {
    const s = this.c.b.g.tensor(id).shape;
    if (!name && s.length === shape.length && s.every((d, i) => d === shape[i])) return id;
    return this.c.b.reshape(id, shape, { name: name ?? this.name('reshape') });
  }

  sumOut(t: Term, labels: string[]): Term {
    if (labels.length === 0) return t;
    const axes = labels.map((l) => t.labels.indexOf(l));
    const kept = t.labels.filter((l) => !labels.includes(l));
    const id = this.op(
      'SUM',
      [t.id, this.c.b.constant(this.name('axes'), 'int32', [axes.length], axes)],
      { keepDims: false },
      this.dims(kept),
    );
    return { id, labels: kept };
  }

  /** Repeated labels of one operand: the diagonal (a product with the identity, summed over the second axis). */
  diagonals(t: Term): Term {
    let cur = t;
    for (;;) {
      const l = cur.labels.find((x, i) => cur.labels.indexOf(x) !== i);
      if (l === undefined) return cur;
      const at = cur.labels.flatMap((x, i) => (x === l ? [i] : []));
      if (at.length > 2) throw this.c.refuse(`label ${l} three times in one operand`);
      const d = this.size.get(l)!;
      const others = cur.labels.filter((_x, i) => !at.includes(i));
      const second = `${l}'`;
      const labels = [...others, l, second];
      const moved = this.permute({ id: cur.id, labels: cur.labels.map((x, i) => (i === at[1] ? second : x)) }, labels);
      const eye = Array.from({ length: d * d }, (_v, q) => Number(q % d === Math.floor(q / d)));
      const masked = this.op(
        'MUL',
        [moved.id, this.c.b.constant(this.name('identity'), F32, [d, d], eye)],
        { fusedActivationFunction: 0 },
        this.dims(others).concat([d, d]),
      );
      cur = this.sumOut({ id: masked, labels }, [second]);
    }
  }

  /** Two operands as one BATCH_MATMUL; the result keeps the labels in `keep`. */
  contract(a: Term, b: Term, keep: ReadonlySet<string>): Term {
    const inB = new Set(b.labels);
    const inA = new Set(a.labels);
    const batch = a.labels.filter((l) => inB.has(l) && keep.has(l));
    const contracted = a.labels.filter((l) => inB.has(l) && !keep.has(l));
    const left = a.labels.filter((l) => !inB.has(l));
    const right = b.labels.filter((l) => !inA.has(l));
    const [nb, nl, nk, nr] = [batch, left, contracted, right].map((ls) => numElements(this.dims(ls))) as [
      number,
      number,
      number,
      number,
    ];
    const x = this.reshape(this.permute(a, [...batch, ...left, ...contracted]).id, [nb, nl, nk]);
    const y = this.reshape(this.permute(b, [...batch, ...contracted, ...right]).id, [nb, nk, nr]);
    const z = this.op('BATCH_MATMUL', [x, y], { adjX: false, adjY: false }, [nb, nl, nr]);
    const labels = [...batch, ...left, ...right];
    return { id: this.reshape(z, this.dims(labels)), labels };
  }

  /** The final term in the output's label order, named `name`. */
  arrange(t: Term, output: string[], name: string): number {
    const p = this.permute(t, output);
    return this.reshape(p.id, this.dims(output), name);
  }
}
