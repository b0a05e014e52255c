import { KilnError } from '../../shared/common/errors.js';

/**
 * Cloud Scheduler's part on the local stack: POSTs to the sweeper function every period (terraform calls it every
 * sweepPeriodS of stage-settings.json; locally the period is short so tests with short leases see their effect). A call
 * that fails is tried again at the next tick; calls never overlap.
 */
export const DEFAULT_LOCAL_SWEEP_MS = 10_000;

export function sweepPeriodMs(env: Record<string, string | undefined>): number {
  const raw = env['KILN_SWEEP_PERIOD_MS'];
  if (raw === undefined || raw === '') return DEFAULT_LOCAL_SWEEP_MS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 100)
    throw new KilnError('E_BAD_ARGUMENT', `KILN_SWEEP_PERIOD_MS is "${raw}"; it must be a whole number of ms >= 100`, {
      hint: 'Unset it for the default (10 s) or give a period in milliseconds',
    });
  return n;
}

export function startSweeperTimer(url: string, periodMs: number): { stop: () => void } {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
      .then((r) => r.arrayBuffer())
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, periodMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
