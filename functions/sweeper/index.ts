import * as ff from '@google-cloud/functions-framework';
import { leaseMsFor } from '../../shared/pipeline/config.js';
import { log } from '../../shared/pipeline/log.js';
import { sweep } from '../../shared/pipeline/sweep.js';
import { runtime } from '../lib/runtime.js';

/**
 * sweeper: called by Cloud Scheduler every SWEEP_PERIOD_S (stage-settings.ts; the local stack on a timer). Re-drives
 * units whose lease expired without progress and fails builds whose units used up their attempts, so no build stays
 * `running`. Answers the sweep's counts as JSON.
 */
ff.http('sweeper', async (_req, res) => {
  const rt = runtime();
  const report = await sweep(rt.deps, { config: rt.config, leaseMs: (stage) => leaseMsFor(rt.config, stage) });
  log.sweepDone(report.builds, report.redriven, report.failed);
  res.status(200).json(report);
});
