import { registerStageFunction } from '../lib/stage-function.js';

/** finish: one Pub/Sub push per unit of work → the finish stage core (see shared/pipeline/stages.ts). */
registerStageFunction('finish');
