import { KilnError } from '../../common/errors.js';
import { TENSOR_TYPE_BYTES, builtinName, textOf, type TfliteModel } from './model.js';
import { arityOf } from './op-arity.js';

/** Largest tensor Kiln accepts (elements). Larger declared shapes are refused before anything is allocated. */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;
/** Highest tensor rank Kiln accepts (TFLite's kernels stop at 6; its shape vectors are never longer in practice). */
export const MAX_TENSOR_RANK = 16;

function indexError(what: string, index: number, limit: number, where: string): KilnError {
  return new KilnError(
    'E_TFLITE_INDEX',
    `invalid model: ${where} refers to ${what} ${index}, but the model has ${limit}`,
    {
      hint: 'The file is corrupt or was edited by hand; re-export it from the TFLite converter',
      details: { what, index, limit, where },
    },
  );
}

function dataflowError(msg: string): KilnError {
  return new KilnError('E_TFLITE_MALFORMED', `invalid model: ${msg}`, {
    hint: 'The file is corrupt or was edited by hand; re-export it from the TFLite converter',
  });
}

/**
 * Structural checks every consumer relies on: indices in range, shapes sane, constant data sizes matching their
 * declared shapes. Runs after decoding; a model that passes can be walked without further bounds checks.
 */
export function validateModel(model: TfliteModel, fileBytes?: number): void {
  if (model.subgraphs.length === 0) {
    throw new KilnError('E_TFLITE_MALFORMED', 'invalid model: it has no subgraphs', {
      hint: 'Re-export the model from the TFLite converter',
    });
  }
  const nCodes = model.operatorCodes.length;
  const nBuffers = model.buffers.length;
  model.subgraphs.forEach((sg, s) => {
    const nTensors = sg.tensors.length;
    const checkTensor = (t: number, where: string, optional: boolean): void => {
      if (optional && t === -1) return;
      if (!Number.isInteger(t) || t < 0 || t >= nTensors) throw indexError('tensor', t, nTensors, where);
    };
    sg.inputs.forEach((t, i) => checkTensor(t, `subgraph ${s} input ${i}`, false));
    sg.outputs.forEach((t, i) => checkTensor(t, `subgraph ${s} output ${i}`, false));
    sg.tensors.forEach((t, i) => {
      const where = `subgraph ${s} tensor ${i} (${JSON.stringify(textOf(t.name))})`;
      if (t.buffer < 0 || t.buffer >= nBuffers) throw indexError('buffer', t.buffer, nBuffers, where);
      if (!(t.type in TENSOR_TYPE_BYTES)) {
        throw new KilnError(
          'E_TFLITE_MALFORMED',
          `invalid model: ${where} has tensor type ${t.type}, which TFLite does not define`,
          {
            hint: 'The file is corrupt or comes from an unknown converter; re-export it from the TFLite converter',
          },
        );
      }
      if (t.shape.length > MAX_TENSOR_RANK || t.shapeSignature.length > MAX_TENSOR_RANK) {
        throw new KilnError(
          'E_TFLITE_LIMIT',
          `invalid model: ${where} has rank ${Math.max(t.shape.length, t.shapeSignature.length)}, over the limit of ${MAX_TENSOR_RANK}`,
          {
            hint: 'The file is corrupt; re-export the model from the TFLite converter',
          },
        );
      }
      let elements = 1;
      for (const d of t.shape) {
        if (!Number.isInteger(d) || d < 0) {
          throw new KilnError(
            'E_TFLITE_MALFORMED',
            `invalid model: ${where} has shape [${t.shape.join(',')}] with a negative dimension`,
            {
              hint: 'Dynamic dimensions belong in shape_signature; re-export the model with a fixed input shape',
            },
          );
        }
        elements *= d;
      }
      if (elements > MAX_TENSOR_ELEMENTS) {
        throw new KilnError(
          'E_TFLITE_LIMIT',
          `invalid model: ${where} declares shape [${t.shape.join(',')}] = ${elements} elements, over the limit of ${MAX_TENSOR_ELEMENTS}`,
          {
            hint: 'Reduce the input size or split the model',
          },
        );
      }
      const data = model.buffers[t.buffer]!.data;
      const width = TENSOR_TYPE_BYTES[t.type] ?? 0;
      if (data.length > 0 && width > 0 && t.sparsity === null && data.length !== elements * width) {
        throw new KilnError(
          'E_TFLITE_MALFORMED',
          `invalid model: ${where} has ${data.length} bytes of constant data, but shape [${t.shape.join(',')}] needs ${elements * width}`,
          {
            hint: 'The file is corrupt; re-export the model from the TFLite converter',
          },
        );
      }
      const q = t.quantization;
      if (
        q &&
        q.scale.length > 1 &&
        (q.quantizedDimension < 0 || q.quantizedDimension >= Math.max(1, t.shape.length))
      ) {
        throw new KilnError(
          'E_TFLITE_MALFORMED',
          `invalid model: ${where} is quantized per channel along axis ${q.quantizedDimension}, but has rank ${t.shape.length}`,
          {
            hint: 'Re-quantize the model; the quantized dimension must be an axis of the tensor',
          },
        );
      }
    });
    const producer = new Int32Array(nTensors).fill(-1);
    sg.operators.forEach((op, o) => {
      const where = `subgraph ${s} operator ${o}`;
      if (op.opcodeIndex < 0 || op.opcodeIndex >= nCodes)
        throw indexError('operator code', op.opcodeIndex, nCodes, where);
      const name = builtinName(
        Math.max(
          model.operatorCodes[op.opcodeIndex]!.builtinCode,
          model.operatorCodes[op.opcodeIndex]!.deprecatedBuiltinCode,
        ),
      );
      op.inputs.forEach((t, i) => checkTensor(t, `${where} (${name}) input ${i}`, true));
      op.outputs.forEach((t, i) => checkTensor(t, `${where} (${name}) output ${i}`, false));
      op.intermediates.forEach((t, i) => checkTensor(t, `${where} (${name}) intermediate ${i}`, false));
      const [minIn, minOut] = arityOf(name);
      const missing = op.inputs.slice(0, minIn).findIndex((t) => t < 0);
      if (op.inputs.length < minIn || missing >= 0 || op.outputs.length < minOut) {
        throw dataflowError(
          `${where} (${name}) has ${op.inputs.filter((t) => t >= 0).length} of the ${minIn} inputs and ${op.outputs.length} of the ${minOut} outputs it needs`,
        );
      }
      for (const t of op.outputs) {
        if (producer[t]! >= 0)
          throw dataflowError(`${where} (${name}) writes tensor ${t}, which operator ${producer[t]} already writes`);
        producer[t] = o;
      }
    });
    // TFLite runs operators in file order: an operator may only read what an earlier operator wrote (no cycles).
    sg.operators.forEach((op, o) => {
      for (const t of op.inputs) {
        if (t >= 0 && producer[t]! >= o) {
          throw dataflowError(
            `subgraph ${s} operator ${o} reads tensor ${t} before operator ${producer[t]} writes it (a cycle or an out-of-order graph)`,
          );
        }
      }
    });
  });
  if (fileBytes !== undefined) {
    for (const b of model.buffers) {
      if (b.offset > 0n && b.offset + b.size > BigInt(fileBytes)) {
        throw new KilnError(
          'E_TFLITE_MALFORMED',
          `invalid model: a buffer lies outside the file (offset ${b.offset}, size ${b.size}, file ${fileBytes} bytes)`,
          {
            hint: 'The file is truncated; upload it again',
          },
        );
      }
    }
  }
}
