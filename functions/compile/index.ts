import { registerStageFunction } from '../lib/stage-function.js';

/** compile: one Pub/Sub push per unit of work → the compile stage core (see shared/pipeline/stages.ts). */
registerStageFunction('compile');
