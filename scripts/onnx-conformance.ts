/**
 * ONNX conformance: ONNX's own backend test data (Debian's libonnx-testdata: node, pytorch-converted,
 * pytorch-operator, simple) through `kiln convert`, each float .tflite run in the real TFLite runtime on the test's
 * inputs and compared with the test's expected outputs (rtol 1e-3, atol 1e-4). Writes docs/onnx.md:
 *
 *   npx tsx scripts/onnx-conformance.ts [--suites node,simple] [--only <regexp>] [--write docs/onnx.md]
 *                                       [--data /usr/share/libonnx-testdata/data]
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitCodeFor, isKilnError } from '../shared/common/errors.js';
import { typedView, type DType } from '../shared/toolchain/ir/dtype.js';
import { numElements } from '../shared/toolchain/ir/graph.js';
import { convertModel, toTfliteBytes } from '../shared/toolchain/loaders/convert.js';
import { decodeOnnxModel, decodeOnnxTensor } from '../shared/toolchain/loaders/onnx/proto.js';
import { constOf, tensorFromOnnx } from '../shared/toolchain/loaders/onnx/tensor.js';
import { TfliteSession } from '../shared/toolchain/runtime/tflite-runtime.js';

export const DEFAULT_DATA = '/usr/share/libonnx-testdata/data';
export const SUITES = ['pytorch-converted', 'pytorch-operator', 'simple', 'node'] as const;
export const RTOL = 1e-3;
export const ATOL = 1e-4;

export type Status = 'matched' | 'mismatch' | 'refused' | 'crash' | 'runtime-error' | 'data-defect';

/**
 * Tests whose model disagrees with their own expected outputs, as filed upstream. Kiln converts such a model as it
 * is written; a mismatch there is reported as a defect of the test data, with the reason, not as a match.
 */
export const DATA_DEFECTS: Readonly<Record<string, string>> = {
  'node/test_adam_multiple':
    "the expected outputs were computed with epsilon=1e-2, but model.onnx leaves epsilon out, so the spec's default 1e-6 applies (onnx/onnx#7749, fixed upstream by onnx/onnx#7763)",
};

export interface CaseResult {
  suite: string;
  name: string;
  ops: string[];
  status: Status;
  /** Why it was refused, or what went wrong. */
  reason?: string;
}

interface Prepared {
  result: CaseResult;
  tflite?: Uint8Array;
  inputs?: Uint8Array[];
  expected?: { values: ArrayLike<number>; count: number; dtype: DType }[];
  outDtypes?: DType[];
}

const readTensor = (path: string): ReturnType<typeof tensorFromOnnx> =>
  tensorFromOnnx(decodeOnnxTensor(new Uint8Array(readFileSync(path)), path), path);

function listFiles(dir: string, prefix: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
    .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)));
}

/** Converts one test case and reads its first data set. */
function prepare(suite: string, dir: string, name: string): Prepared {
  const modelPath = join(dir, 'model.onnx');
  const bytes = new Uint8Array(readFileSync(modelPath));
  let ops: string[] = [];
  const result: CaseResult = { suite, name, ops, status: 'crash' };
  try {
    const m = decodeOnnxModel(bytes, modelPath);
    const g = m.graph!;
    ops = [
      ...new Set(g.node.map((n) => (n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType))),
    ].sort();
    result.ops = ops;
    const init = new Set(g.initializer.map((t) => t.name));
    const inputNames = g.input.map((i) => i.name).filter((n) => !init.has(n));
    const set = join(dir, 'test_data_set_0');
    const inFiles = listFiles(set, 'input_');
    // sequence and optional test data are not TensorProtos: convert without pinned shapes (the converter refuses them)
    let ins: ReturnType<typeof readTensor>[] = [];
    try {
      ins = inFiles.map((f) => readTensor(join(set, f)));
    } catch {
      ins = [];
    }
    const shapes = inputNames.slice(0, ins.length).map((n, i) => ({ name: n, shape: ins[i]!.shape }));
    const conv = convertModel(modelPath, {
      inputs: shapes.filter((s) => s.shape.length > 0 && s.shape.every((d) => d >= 0)),
    });
    const tflite = toTfliteBytes(conv.model);
    const inputs = conv.inputs.map((info, i) => {
      const t = ins[i];
      if (!t) throw new Error(`no data for input ${info.name}`);
      if (t.dtype === info.dtype) return t.data;
      return new Uint8Array(0);
    });
    const expected = listFiles(set, 'output_').map((f) => {
      const t = readTensor(join(set, f));
      const c = constOf(t, f);
      return { values: c.v, count: numElements(t.shape), dtype: t.dtype };
    });
    return { result, tflite, inputs, expected, outDtypes: conv.outputs.map((o) => o.dtype as DType) };
  } catch (e) {
    // refused: bad input the CLI answers with exit 2; any other failure (exit 1) is a crash
    if (isKilnError(e) && exitCodeFor(e) === 2) return { result: { ...result, status: 'refused', reason: e.message } };
    return {
      result: {
        ...result,
        status: 'crash',
        reason: (e as Error).stack?.split('\n').slice(0, 3).join(' | ') ?? String(e),
      },
    };
  }
}

function close(a: number, e: number): boolean {
  if (Number.isNaN(e)) return Number.isNaN(a);
  if (!Number.isFinite(e)) return a === e;
  return Math.abs(a - e) <= ATOL + RTOL * Math.abs(e);
}

/** The converted model's outputs against the expected ones (throws when the runtime fails). */
async function outputsMatch(p: Prepared, session: TfliteSession): Promise<CaseResult> {
  const r = p.result;
  await session.load(p.tflite!);
  const outs = await session.run(p.inputs!);
  for (let k = 0; k < p.expected!.length; k++) {
    const exp = p.expected![k]!;
    const o = outs[k];
    if (!o) return { ...r, status: 'mismatch', reason: `output ${k} missing` };
    const got = typedView(p.outDtypes![k]!, o.bytes);
    if (got.length !== exp.count)
      return { ...r, status: 'mismatch', reason: `output ${k}: ${got.length} values, expected ${exp.count}` };
    for (let i = 0; i < exp.count; i++) {
      const a = Number(got[i]!);
      const e = Number(exp.values[i]!);
      if (!close(a, e)) return { ...r, status: 'mismatch', reason: `output ${k}[${i}] = ${a}, expected ${e}` };
    }
  }
  return { ...r, status: 'matched' };
}

/** Runs one converted case; a mismatch on a test whose data is known to be wrong is reported as that defect. */
async function check(p: Prepared, session: TfliteSession): Promise<CaseResult> {
  let r: CaseResult;
  try {
    r = await outputsMatch(p, session);
  } catch (e) {
    return { ...p.result, status: 'runtime-error', reason: (e as Error).message };
  }
  const defect = DATA_DEFECTS[`${r.suite}/${r.name}`];
  return r.status === 'mismatch' && defect ? { ...r, status: 'data-defect', reason: `${defect}; ${r.reason}` } : r;
}

export function listCases(data: string, suites: readonly string[]): { suite: string; dir: string; name: string }[] {
  const out: { suite: string; dir: string; name: string }[] = [];
  for (const suite of suites) {
    const root = join(data, suite);
    if (!existsSync(root)) continue;
    for (const name of readdirSync(root).sort()) {
      const dir = join(root, name);
      if (existsSync(join(dir, 'model.onnx')) && existsSync(join(dir, 'test_data_set_0')))
        out.push({ suite, dir, name });
    }
  }
  return out;
}

/** Runs the suites: conversions in this process, the converted models one after another in one runtime process. */
export async function runConformance(
  data = DEFAULT_DATA,
  suites: readonly string[] = SUITES,
  only?: RegExp,
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  let session = new TfliteSession();
  try {
    for (const c of listCases(data, suites)) {
      if (only && !only.test(c.name)) continue;
      const p = prepare(c.suite, c.dir, c.name);
      if (!p.tflite) {
        results.push(p.result);
        continue;
      }
      if (!session.alive) session = new TfliteSession();
      results.push(await check(p, session));
    }
  } finally {
    session.close();
  }
  return results;
}

const pct = (a: number, b: number): string => (b === 0 ? '–' : `${Math.round((1000 * a) / b) / 10}%`);

export function summarize(results: CaseResult[]): Record<string, Record<Status | 'total', number>> {
  const s: Record<string, Record<Status | 'total', number>> = {};
  for (const r of results) {
    const row = (s[r.suite] ??= {
      total: 0,
      matched: 0,
      mismatch: 0,
      refused: 0,
      crash: 0,
      'runtime-error': 0,
      'data-defect': 0,
    });
    row.total++;
    row[r.status]++;
  }
  return s;
}

/** Short reason of a refusal (the message after the node name). */
const shortReason = (r: string): string =>
  r
    .replace(/^node \S+ \(\w+\): /, '')
    .replace(/ \(nodes .*$/, '')
    .slice(0, 120);

/** docs/onnx.md: per-suite counts, then one row per ONNX op: tests using it, converted, matched, refusals and why. */
export function renderDoc(results: CaseResult[]): string {
  const sum = summarize(results);
  const lines = [
    '# ONNX conformance',
    '',
    "Generated by `npx tsx scripts/onnx-conformance.ts --write docs/onnx.md` from ONNX's backend test data as Debian",
    'packages it (`libonnx-testdata`). Each model is converted by Kiln to a float .tflite, run in the TFLite runtime',
    `on the test's first data set and compared with the expected outputs (rtol ${RTOL}, atol ${ATOL}). A refused`,
    'model failed with a KilnError naming the op and the reason (CLI exit 2); a crash is any other failure. A test data',
    'defect is a mismatch on a test whose model disagrees with its own expected outputs, as filed upstream (listed at',
    'the end, with the upstream issue).',
    '',
    "Kiln's TFLite graphs are static and have one subgraph, which shapes three conversions:",
    '',
    '- **Control flow** (shared/toolchain/loaders/onnx/control-flow.ts). If on a constant condition converts the branch',
    '  it takes; on a run-time condition both branches run and SELECT_V2 picks (so they must return the same shapes).',
    '  Scan is unrolled over its static length. Loop is unrolled to the length the model declares for a scan output, or',
    '  to a constant trip count with a run-time condition gating the carried values; a loop whose count is known only',
    "  at run time would need TFLite's WHILE with subgraphs and is refused saying so.",
    '- **Sizes from run-time values** (Range, Tile, NonZero, DFT lengths, ...) come from the shape the model declares for',
    '  the result; without a declaration the node is refused by name.',
    '- **Element types.** TFLite 2.9 computes in neither float64 nor float16 (its runtime refuses float16 inputs), so a',
    '  model with such inputs is refused, naming the input and the nodes that read it.',
    '',
    '| suite | tests | matched | refused | mismatch | runtime error | crash | test data defect |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...Object.entries(sum).map(
      ([k, v]) =>
        `| ${k} | ${v.total} | ${v.matched} (${pct(v.matched, v.total)}) | ${v.refused} | ${v.mismatch} | ${v['runtime-error']} | ${v.crash} | ${v['data-defect']} |`,
    ),
    '',
    '## Ops',
    '',
    'Per ONNX op: the tests whose model uses it, how many of those converted, how many matched, and why the others were',
    'refused (when the refusal names this op).',
    '',
    '| op | tests | converted | matched | refused because |',
    '| --- | ---: | ---: | ---: | --- |',
  ];
  const ops = new Map<string, { tests: number; converted: number; matched: number; reasons: Map<string, number> }>();
  for (const r of results)
    for (const op of r.ops) {
      const e = ops.get(op) ?? { tests: 0, converted: 0, matched: 0, reasons: new Map<string, number>() };
      ops.set(op, e);
      e.tests++;
      if (r.status !== 'refused' && r.status !== 'crash') e.converted++;
      if (r.status === 'matched') e.matched++;
      if (r.status === 'refused' && r.reason && new RegExp(`\\b${op.replace(/.*\./, '')}\\b`).test(r.reason)) {
        const why = r.reason.startsWith('unsupported ONNX ops') ? 'no TFLite equivalent' : shortReason(r.reason);
        e.reasons.set(why, (e.reasons.get(why) ?? 0) + 1);
      }
    }
  for (const [op, e] of [...ops].sort((a, b) => a[0].localeCompare(b[0]))) {
    const why = [...e.reasons]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([k, n]) => `${k.replace(/\|/g, '\\|')}${n > 1 ? ` (×${n})` : ''}`)
      .join('; ');
    lines.push(`| ${op} | ${e.tests} | ${e.converted} | ${e.matched} | ${why} |`);
  }
  const models = results.filter((r) => r.status !== 'matched' && r.suite !== 'node');
  lines.push(
    '',
    '## Models not matched (pytorch-converted, pytorch-operator, simple)',
    '',
    '| model | status | why |',
    '| --- | --- | --- |',
    ...models.map((r) => `| ${r.suite}/${r.name} | ${r.status} | ${(r.reason ?? '').replace(/\|/g, '\\|')} |`),
    '',
    '## Node tests not matched, by reason',
    '',
    'The reasons of the node suite refusals, with the node and input names taken out, most frequent first.',
    '',
    '| reason | tests |',
    '| --- | ---: |',
  );
  const why = new Map<string, number>();
  for (const r of results)
    if (r.suite === 'node' && r.status !== 'matched') {
      const k = `${r.status}: ${groupReason(r.reason ?? '')}`;
      why.set(k, (why.get(k) ?? 0) + 1);
    }
  for (const [k, n] of [...why].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])))
    lines.push(`| ${k.replace(/\|/g, '\\|')} | ${n} |`);
  const defects = results.filter((r) => r.status === 'data-defect');
  if (defects.length)
    lines.push(
      '',
      '## Test data defects',
      '',
      '| test | defect |',
      '| --- | --- |',
      ...defects.map((r) => `| ${r.suite}/${r.name} | ${(r.reason ?? '').replace(/\|/g, '\\|')} |`),
    );
  lines.push('');
  return lines.join('\n');
}

/** A refusal reason without the names of nodes and inputs, so that like reasons group together. */
function groupReason(r: string): string {
  return r
    .replace(/^node \S+ \((\S+)\): /, '$1: ')
    .replace(/ \(nodes .*$/, '')
    .replace(/input (\d+) \([^)]*\)/g, 'input $1')
    .replace(/^input \S+ /, 'an input ')
    .replace(/, read by [^;]*;/, ';')
    .replace(/\n[\s\S]*$/, '')
    .slice(0, 160);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (k: string): string | undefined => {
    const i = args.indexOf(k);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const data = arg('--data') ?? DEFAULT_DATA;
  const suites = arg('--suites')?.split(',') ?? [...SUITES];
  const only = arg('--only');
  const results = await runConformance(data, suites, only ? new RegExp(only) : undefined);
  for (const r of results)
    if (r.status !== 'matched')
      process.stderr.write(`${r.suite}/${r.name}: ${r.status}${r.reason ? `: ${r.reason}` : ''}\n`);
  const sum = summarize(results);
  for (const [k, v] of Object.entries(sum)) process.stdout.write(`${k}: ${JSON.stringify(v)}\n`);
  const out = arg('--write');
  if (out) writeFileSync(out, renderDoc(results));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
