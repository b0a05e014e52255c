import type { IrModel } from '../../ir/model.js';
import { taskOfModel, type MetricKind } from './task-type.js';

export { detectionOutputOrder } from './task-type.js';

/** What a model's outputs are, which decides the accuracy metrics (the metric family of its task, task-type.ts). */
export type OutputKind = MetricKind;

export function outputKind(model: IrModel): OutputKind {
  return taskOfModel(model).metrics;
}
