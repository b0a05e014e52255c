import { KilnError } from '../../common/errors.js';
import type { TrainRoute } from './config.js';
import type { TrainRouteFn } from './route.js';
import { trainAutomlRoute } from './automl-route.js';
import { trainTransfer } from './transfer/transfer.js';

/** The training routes, by kiln.json `train.route`: each takes a RouteInput and returns a TrainedModel. */
export const TRAIN_ROUTES: Partial<Record<TrainRoute, TrainRouteFn>> = {
  transfer: trainTransfer,
  automl: trainAutomlRoute,
};

export function trainRoute(route: TrainRoute): TrainRouteFn {
  const f = TRAIN_ROUTES[route];
  if (!f)
    throw new KilnError('E_BAD_ARGUMENT', `route ${route} is not available in this build`, {
      hint: `Use "train": {"route": "${Object.keys(TRAIN_ROUTES).join('" or "')}"} in kiln.json`,
    });
  return f;
}
