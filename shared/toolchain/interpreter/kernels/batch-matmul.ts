import { numElements } from '../../ir/graph.js';
import { broadcastShapes } from '../../ir/shape-inference.js';
import { badOp, unsupportedType } from '../errors.js';
import type { Kernel } from '../kernel.js';
import { broadcastIndex } from './broadcast.js';

/**
 * BATCH_MATMUL, float32 (TFLite 2.9 batch_matmul.cc, version 1): lhs [..., M, K] (adj_x: [..., K, M]) times rhs
 * [..., K, N] (adj_y: [..., N, K]), the batch dimensions broadcast against each other (ranks 2 to 5, the shorter one
 * padded with leading 1s). Each dot product is summed in float64 and stored as float32: TFLite sums in float32 in the
 * order of its GEMM backend, so the two agree to float rounding, not bit for bit.
 */
export const batchMatmul: Kernel = (k) => {
  const d = k.dtype(0);
  if (d !== 'float32' || k.dtype(1) !== 'float32') throw unsupportedType(k.op, `${d} × ${k.dtype(1)}`);
  const ls = k.shape(0);
  const rs = k.shape(1);
  if (ls.length < 2 || rs.length < 2 || ls.length > 5 || rs.length > 5)
    throw badOp(k.op, `inputs of rank ${ls.length} and ${rs.length}: TFLite takes ranks 2 to 5`);
  const adjX = Boolean(k.opts.adjX);
  const adjY = Boolean(k.opts.adjY);
  const [l0, l1] = ls.slice(-2) as [number, number];
  const [r0, r1] = rs.slice(-2) as [number, number];
  const [m, kl] = adjX ? [l1, l0] : [l0, l1];
  const [kr, n] = adjY ? [r1, r0] : [r0, r1];
  if (kl !== kr) throw badOp(k.op, `lhs [${ls.join(',')}] and rhs [${rs.join(',')}] do not agree on the inner size`);
  const lb = ls.slice(0, -2);
  const rb = rs.slice(0, -2);
  const batch = broadcastShapes(lb, rb);
  const nb = numElements(batch);
  const li = broadcastIndex(lb, batch);
  const ri = broadcastIndex(rb, batch);
  // Element strides of lhs over (row i, inner p) and of rhs over (inner p, column j).
  const [lsi, lsp] = adjX ? [1, m] : [kl, 1];
  const [rsp, rsj] = adjY ? [1, kl] : [n, 1];
  const a = k.input(0) as Float32Array;
  const b = k.input(1) as Float32Array;
  const y = k.output(0, [...batch, m, n]) as Float32Array;
  const lsz = m * kl;
  const rsz = kl * n;
  return () => {
    let o = 0;
    for (let q = 0; q < nb; q++) {
      const la = li[q]! * lsz;
      const rbase = ri[q]! * rsz;
      for (let i = 0; i < m; i++) {
        const row = la + i * lsi;
        for (let j = 0; j < n; j++) {
          const col = rbase + j * rsj;
          let s = 0;
          for (let p = 0; p < kl; p++) s += a[row + p * lsp]! * b[col + p * rsp]!;
          y[o++] = s;
        }
      }
    }
  };
};
