import test from 'ava';
import { readFileSync } from 'node:fs';
import {
  FITTED_PATH,
  fitAll,
  fitConstants,
  fitLoss,
  fittedJson,
  SEED,
} from '../../shared/toolchain/verify/latency/calibrate.js';
import { CHIP, DEVICES, FITTED } from '../../shared/toolchain/verify/latency/devices.js';
import { PUBLISHED } from '../../shared/toolchain/verify/latency/published.js';
import { planArchitectures } from '../../shared/toolchain/verify/latency/table.js';

const plans = planArchitectures();
const fresh = fitAll(plans);

test('re-running calibrate.ts is a no-op: the committed fitted.json is exactly what the fit produces', (t) => {
  t.is(readFileSync(FITTED_PATH, 'utf8'), fittedJson(fresh));
});

test('the code reads the fitted constants from fitted.json', (t) => {
  t.deepEqual(CHIP, FITTED.fit.chip);
  for (const [d, c] of Object.entries(FITTED.fit.devices)) t.like(DEVICES[d as keyof typeof DEVICES], c);
});

test('one held-out fit per estimated architecture, each made without any row of that architecture', (t) => {
  const estimated = plans.filter((p) => p.plan && PUBLISHED.some((r) => r.model === p.model)).map((p) => p.model);
  t.deepEqual(Object.keys(fresh.heldOut).sort(), [...estimated].sort());
  // the VGG16 held-out constants are the fit on the other nine architectures, and they differ from the full fit
  const others = plans.filter((p) => p.model !== 'VGG16');
  t.deepEqual(fresh.heldOut.VGG16, fitConstants(others));
  t.notDeepEqual(fresh.heldOut.VGG16, fresh.fit);
});

test('the fit starts from the fixed seed, not from the committed constants, and lowers the loss', (t) => {
  const [fit, seed] = [fitLoss(plans, fresh.fit), fitLoss(plans, SEED)];
  t.log(`Σ|log ratio|: seed ${seed.toFixed(2)}, fit ${fit.toFixed(2)}`);
  t.true(fit < seed);
});
