import { registerStageFunction } from '../lib/stage-function.js';

/** convert: one Pub/Sub push per unit of work → the convert stage core (see shared/pipeline/stages.ts). */
registerStageFunction('convert');
