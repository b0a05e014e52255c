import { ByteBuffer } from 'flatbuffers';
import { KilnError } from '../../common/errors.js';

/**
 * A flatbuffers ByteBuffer that refuses to read outside the file and caps the total amount of reading.
 *
 * The stock ByteBuffer returns garbage (or 0) for out-of-range offsets, so a damaged file can declare a vector of
 * 2^31 elements and keep a reader busy for hours. Here every primitive read is bounds-checked, every vector length is
 * checked against the file size, and the number of reads is capped at a multiple of the file size (a file cannot make
 * the reader do much more work than its own size, even with shared sub-objects).
 */
export class CheckedByteBuffer extends ByteBuffer {
  private readonly size: number;
  private reads = 0;
  private readonly maxReads: number;

  constructor(bytes: Uint8Array, readBudgetFactor = 64) {
    super(bytes);
    this.size = bytes.length;
    this.maxReads = bytes.length * readBudgetFactor + 1_000_000;
  }

  private check(offset: number, width: number): void {
    if (!(offset >= 0 && offset + width <= this.size)) {
      throw new KilnError(
        'E_TFLITE_MALFORMED',
        `not a valid TFLite flatbuffer: a field points outside the file (offset ${offset}, file ${this.size} bytes)`,
        {
          hint: 'The file is truncated or corrupt; re-export the model from the TFLite converter',
        },
      );
    }
    if (++this.reads > this.maxReads) {
      throw new KilnError(
        'E_TFLITE_MALFORMED',
        'not a valid TFLite flatbuffer: its structure refers to the same data far more often than a real model',
        {
          hint: 'The file is corrupt or crafted; re-export the model from the TFLite converter',
        },
      );
    }
  }

  override readUint8(offset: number): number {
    this.check(offset, 1);
    return super.readUint8(offset);
  }

  override readUint16(offset: number): number {
    this.check(offset, 2);
    return super.readUint16(offset);
  }

  override readInt32(offset: number): number {
    this.check(offset, 4);
    return super.readInt32(offset);
  }

  override __vector_len(offset: number): number {
    const len = super.__vector_len(offset);
    if (len < 0 || len > this.size) {
      throw new KilnError(
        'E_TFLITE_MALFORMED',
        `not a valid TFLite flatbuffer: a vector declares ${len >>> 0} elements in a ${this.size}-byte file`,
        {
          hint: 'The file is truncated or corrupt; re-export the model from the TFLite converter',
        },
      );
    }
    return len;
  }

  override __string(offset: number, optEncoding?: unknown): string | Uint8Array {
    const start = offset + this.readInt32(offset);
    const len = this.readInt32(start);
    this.check(start + 4, Math.max(0, len));
    return super.__string(offset, optEncoding as never);
  }

  /** Reads each element once (the stock version calls the accessor twice per element). */
  override createScalarList<T>(listAccessor: (i: number) => T | null, listLength: number): T[] {
    const out: T[] = [];
    for (let i = 0; i < listLength; i++) {
      const v = listAccessor(i);
      if (v !== null) out.push(v);
    }
    return out;
  }

  /** A bounds-checked view of a byte vector (no copy). */
  byteView(start: number, length: number): Uint8Array {
    if (length > 0) this.check(start, length);
    return this.bytes().subarray(start, start + length);
  }
}
