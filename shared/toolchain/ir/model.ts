import type { SignatureDefT } from '../tflite/schema.js';
import { Graph } from './graph.js';

/** A whole model: its graphs (subgraph 0 is the main graph) and the file-level data Kiln keeps on a round trip. */
export class IrModel {
  constructor(
    readonly subgraphs: Graph[],
    public description: string | null = 'Kiln',
    public metadata: { name: string; data: Uint8Array }[] = [],
    public signatureDefs: SignatureDefT[] = [],
    public version = 3,
  ) {
    if (subgraphs.length === 0) throw new Error('a model needs at least one graph');
  }

  get graph(): Graph {
    return this.subgraphs[0]!;
  }
}
