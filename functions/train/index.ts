import { registerStageFunction } from '../lib/stage-function.js';

/** train: one Pub/Sub push per unit of work → the train stage core (see shared/pipeline/stages.ts). */
registerStageFunction('train');
