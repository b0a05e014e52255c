import { Builder } from 'flatbuffers';
import type { TfliteModel } from './model.js';
import { fb } from './schema.js';

/** Constant buffers start on 16-byte boundaries, as the TFLite converter writes them (SIMD loads, mmap). */
const BUFFER_ALIGNMENT = 16;

/** Serializes a model to .tflite bytes (file identifier "TFL3"), keeping every field of the typed model. */
export function writeTflite(model: TfliteModel): Uint8Array {
  const dataBytes = model.buffers.reduce((n, b) => n + b.data.length + BUFFER_ALIGNMENT, 0);
  const builder = new Builder(Math.max(1024, dataBytes + 64 * 1024));

  // Big data first: the flatbuffer is built back to front, so these end up at the end of the file.
  const bufferOffsets = model.buffers.map((b) => {
    const data = b.data.length > 0 ? alignedByteVector(builder, b.data) : 0;
    fb.Buffer.startBuffer(builder);
    if (data) fb.Buffer.addData(builder, data);
    fb.Buffer.addOffset(builder, b.offset);
    fb.Buffer.addSize(builder, b.size);
    return fb.Buffer.endBuffer(builder);
  });

  const model_ = new fb.ModelT(
    model.version,
    model.operatorCodes,
    model.subgraphs,
    model.description,
    [],
    model.metadataBuffer,
    model.metadata,
    model.signatureDefs,
  );
  const operatorCodes = fb.Model.createOperatorCodesVector(
    builder,
    builder.createObjectOffsetList(model_.operatorCodes),
  );
  const subgraphs = fb.Model.createSubgraphsVector(builder, builder.createObjectOffsetList(model_.subgraphs));
  const description = model_.description === null ? 0 : builder.createString(model_.description);
  const buffers = fb.Model.createBuffersVector(builder, bufferOffsets);
  const metadataBuffer = fb.Model.createMetadataBufferVector(builder, model_.metadataBuffer);
  const metadata = fb.Model.createMetadataVector(builder, builder.createObjectOffsetList(model_.metadata));
  const signatureDefs = fb.Model.createSignatureDefsVector(
    builder,
    builder.createObjectOffsetList(model_.signatureDefs),
  );
  const root = fb.Model.createModel(
    builder,
    model_.version,
    operatorCodes,
    subgraphs,
    description,
    buffers,
    metadataBuffer,
    metadata,
    signatureDefs,
  );
  fb.Model.finishModelBuffer(builder, root);
  return builder.asUint8Array();
}

function alignedByteVector(builder: Builder, data: Uint8Array): number {
  builder.startVector(1, data.length, BUFFER_ALIGNMENT);
  const b = builder as unknown as { space: number };
  b.space -= data.length;
  builder.dataBuffer().bytes().set(data, b.space);
  return builder.endVector();
}
