import { KilnError } from '../../../common/errors.js';
import type { CutGraph } from './prune.js';
import { nodeDtype } from './prune.js';
import { dataInputs, type NodeJson } from './types.js';

const CONTROL_FLOW = new Set([
  'Switch',
  'Merge',
  'Enter',
  'Exit',
  'NextIteration',
  'LoopCond',
  'RefSwitch',
  'RefMerge',
  'RefEnter',
  'RefExit',
  'RefNextIteration',
  'While',
  'StatelessWhile',
  'If',
  'StatelessIf',
  'Case',
  'StatelessCase',
  'TensorListReserve',
  'TensorListFromTensor',
  'TensorListStack',
  'TensorArrayV3',
  'TensorArrayReadV3',
  'TensorArrayWriteV3',
  'TensorArrayGatherV3',
  'TensorArrayScatterV3',
  'TensorArraySizeV3',
]);

/** Ops of the TF audio front end (tf.audio / contrib.framework.audio_ops): named in the refusal, with the cut to make. */
const AUDIO_OPS = new Set(['DecodeWav', 'AudioSpectrogram', 'Mfcc', 'EncodeWav']);

const list = (nodes: NodeJson[], max = 6): string => {
  const s = nodes.slice(0, max).map((n) => `${n.name} (${n.op})`);
  return s.join(', ') + (nodes.length > max ? `, and ${nodes.length - max} more` : '');
};

/**
 * Refuses, before any conversion, what cannot become a float TFLite graph — the way the TF.js converter lists
 * "Unsupported Ops": control flow, ops without a TFLite mapping (the audio front end among them), int64 data flow.
 * `supported(op)` says whether the op table knows an op.
 */
export function checkConvertible(cut: CutGraph, supported: (op: string) => boolean): void {
  const flow = cut.nodes.filter((n) => CONTROL_FLOW.has(n.op));
  if (flow.length > 0) {
    throw new KilnError(
      'E_UNSUPPORTED_OP',
      `the graph uses control flow ops, which Kiln cannot convert: ${[...new Set(flow.map((n) => n.op))].join(', ')} (nodes ${list(flow)})`,
      {
        hint: 'Export the model without tf.cond / tf.while_loop (static inference graph), or cut them off with --inputs/--outputs',
        details: { unsupportedOps: [...new Set(flow.map((n) => n.op))] },
      },
    );
  }
  const unknown = cut.nodes.filter((n) => n.op !== 'Const' && n.op !== 'Placeholder' && !supported(n.op));
  if (unknown.length > 0) {
    const ops = [...new Set(unknown.map((n) => n.op))];
    const audio = ops.filter((o) => AUDIO_OPS.has(o));
    const lastAudio = unknown.filter((n) => AUDIO_OPS.has(n.op)).at(-1);
    const hint = audio.length
      ? `The graph starts with an audio front end (${audio.join(', ')}); convert the network after it by cutting there, e.g. --inputs ${lastAudio?.name ?? 'Mfcc'}:<shape of its output> --outputs ${cut.outputs.map((o) => o.node).join(',')}`
      : 'Cut the graph past them with --inputs <node>:<shape> and --outputs <node>, or export the model without them';
    throw new KilnError(
      'E_UNSUPPORTED_OP',
      `unsupported ops in the model: ${ops.join(', ')} (nodes ${list(unknown)})`,
      { hint, details: { unsupportedOps: ops } },
    );
  }
  // int64 data flow: a non-constant tensor of type int64 (inputs or ops computing on them)
  const dynamic = new Set<string>();
  const int64: NodeJson[] = [];
  for (const n of cut.nodes) {
    const isDyn = n.op === 'Placeholder' || dataInputs(n).some((r) => dynamic.has(r.node));
    if (!isDyn) continue;
    dynamic.add(n.name);
    if (nodeDtype(n) === 'DT_INT64') int64.push(n);
  }
  if (int64.length > 0) {
    int64.sort((a, b) => Number(a.op === 'Identity') - Number(b.op === 'Identity'));
    throw new KilnError(
      'E_UNSUPPORTED_TYPE',
      `int64 graph: ${list(int64)} compute on int64 tensors, which TFLite for the Edge TPU does not support`,
      {
        hint: 'Cast to int32 or float32 in the model (tf.cast) and export it again',
        details: { int64Nodes: int64.map((n) => n.name) },
      },
    );
  }
}
