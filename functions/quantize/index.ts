import { registerStageFunction } from '../lib/stage-function.js';

/** quantize: one Pub/Sub push per unit of work → the quantize stage core (see shared/pipeline/stages.ts). */
registerStageFunction('quantize');
