import type { Graph } from '../../ir/graph.js';
import { IrModel } from '../../ir/model.js';
import { foldAffine } from './fold-affine.js';
import { foldConstants } from './fold-constants.js';
import { fuseActivations } from './fuse-activation.js';
import { removeIdentities } from './identity.js';

export interface RewriteReport {
  identitiesRemoved: number;
  constantsFolded: number;
  affineFolded: number;
  activationsFused: number;
}

/**
 * The float graph clean-up every front end's output goes through: identities removed, constants folded, batch norm and
 * bias adds folded into convolutions, activations fused; then dead ops and tensors are dropped.
 */
export function optimize(model: IrModel): { model: IrModel; report: RewriteReport } {
  const g = model.graph;
  const report: RewriteReport = { identitiesRemoved: 0, constantsFolded: 0, affineFolded: 0, activationsFused: 0 };
  for (let round = 0; round < 8; round++) {
    const before = { ...report };
    report.identitiesRemoved += removeIdentities(g);
    report.constantsFolded += foldConstants(g);
    report.affineFolded += foldAffine(g);
    report.activationsFused += fuseActivations(g);
    if (JSON.stringify(before) === JSON.stringify(report)) break;
  }
  const compacted: Graph = g.compact();
  const out = new IrModel(
    [compacted, ...model.subgraphs.slice(1)],
    model.description,
    model.metadata,
    model.signatureDefs,
    model.version,
  );
  return { model: out, report };
}
