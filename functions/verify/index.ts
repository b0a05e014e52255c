import { registerStageFunction } from '../lib/stage-function.js';

/** verify: one Pub/Sub push per unit of work → the verify stage core (see shared/pipeline/stages.ts). */
registerStageFunction('verify');
