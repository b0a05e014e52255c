import test from 'ava';
import { deadlineMsFor, leaseMsFor, loadConfig } from '../../shared/pipeline/config.js';
import {
  DEADLINE_MARGIN_S,
  deliveriesWithin,
  FUNCTION_SETTINGS,
  PLATFORM_LIMITS,
  settingsOf,
  SWEEP_PERIOD_S,
  type FunctionName,
} from '../../shared/pipeline/stage-settings.js';

/** The one settings table: every time-related value is derived from it and keeps this order for every function. */
const NAMES = Object.keys(FUNCTION_SETTINGS) as FunctionName[];

for (const maxAttempts of [1, 3, 20]) {
  test(`settings keep their ordering for every function (KILN_MAX_ATTEMPTS=${maxAttempts})`, (t) => {
    for (const name of NAMES) {
      const s = settingsOf(name, maxAttempts);
      const at = `${name}: ${JSON.stringify(s)}`;
      const platformMax =
        s.home === 'event-function' ? PLATFORM_LIMITS.eventFunctionTimeoutMaxS : PLATFORM_LIMITS.httpTimeoutMaxS;
      t.true(s.timeoutS <= platformMax, `${at}: timeout within the platform's maximum`);
      t.true(s.deadlineS + DEADLINE_MARGIN_S <= s.timeoutS, `${at}: Kiln's deadline clearly below the timeout`);
      t.true(s.timeoutS < s.leaseS, `${at}: no second run while the first may be alive`);
      t.true(SWEEP_PERIOD_S < s.leaseS, `${at}: the sweeper looks at least once per lease`);
      t.true(SWEEP_PERIOD_S >= PLATFORM_LIMITS.schedulerPeriodMinS, `${at}: a period Cloud Scheduler can keep`);
      t.true(s.ackDeadlineS <= PLATFORM_LIMITS.ackDeadlineMaxS && s.ackDeadlineS <= s.timeoutS, `${at}: ack deadline`);
      t.true(s.minBackoffS < s.maxBackoffS && s.maxBackoffS <= PLATFORM_LIMITS.retryBackoffMaxS, `${at}: back-off`);
      t.true(
        s.maxDeliveryAttempts >= PLATFORM_LIMITS.deadLetterAttemptsMin &&
          s.maxDeliveryAttempts <= PLATFORM_LIMITS.deadLetterAttemptsMax,
        `${at}: a dead-letter limit Pub/Sub accepts`,
      );
      // A unit that runs for its whole lease, maxAttempts times, is never dead-lettered while it runs (unless the
      // platform's cap of 100 deliveries is what limits it).
      if (s.deliveriesPerLease * maxAttempts + 2 <= PLATFORM_LIMITS.deadLetterAttemptsMax)
        t.true(s.maxDeliveryAttempts > s.deliveriesPerLease * maxAttempts, `${at}: turned-back deliveries fit`);
    }
  });
}

test('deliveries within a lease follow the doubling back-off', (t) => {
  t.is(deliveriesWithin(5, 10, 600), 1);
  t.is(deliveriesWithin(10, 10, 600), 2); // t=0 and t=10
  t.is(deliveriesWithin(30, 10, 600), 3); // 0, 10, 30
  // 10+20+40+80+160+320 = 630, then 600 each: 0..630 is 7 deliveries, 1230 the 8th
  t.is(deliveriesWithin(1229, 10, 600), 7);
  t.is(deliveriesWithin(1230, 10, 600), 8);
});

test('leases and deadlines come from the table unless the environment sets them', (t) => {
  const config = loadConfig({});
  t.is(leaseMsFor(config, 'quantize'), settingsOf('quantize', 3).leaseS * 1000);
  t.is(deadlineMsFor(config, 'quantize'), FUNCTION_SETTINGS.quantize.deadlineS * 1000);
  t.not(leaseMsFor(config, 'quantize'), leaseMsFor(config, 'finish'), 'each function has its own lease');
  const tests = loadConfig({ KILN_LEASE_MS: '4000', KILN_STAGE_TIMEOUT_MS: '1000' });
  t.is(leaseMsFor(tests, 'quantize'), 4000);
  t.is(deadlineMsFor(tests, 'quantize'), 1000);
  const big = loadConfig({ KILN_STAGE_TIMEOUT_MS: String(10 * 3600 * 1000) });
  t.is(deadlineMsFor(big, 'convert'), FUNCTION_SETTINGS.convert.deadlineS * 1000, 'a cap never lengthens a deadline');
});
