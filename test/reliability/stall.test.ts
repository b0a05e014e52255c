import test from 'ava';
import { parseBuildConfig } from '../../shared/pipeline/build-config.js';
import { beginUnit, failUnit, newBuild, succeedUnit } from '../../shared/pipeline/build-state.js';
import { deadLetterError, failStalled, markRedriven, sweepDecision } from '../../shared/pipeline/stall.js';
import { SINGLE_FILE_UPLOAD, T } from '../helpers/builds.js';

/** The sweeper's and the dead-letter consumer's decisions, as pure functions over the build record. */
const LEASE = 10_000;
const lease = () => LEASE;
const fresh = () => newBuild('b', 'm', SINGLE_FILE_UPLOAD, parseBuildConfig({}, 8), T(0));
const ok = { artifacts: {}, summary: {} };

test('a unit running inside its lease is left alone; past it, it is re-driven, then fails after its attempts', (t) => {
  const r = fresh();
  beginUnit(r, 'convert', 'main', T(1), LEASE, 'a');
  t.deepEqual(sweepDecision(r, T(5), lease, 3), [], 'alive: nothing to do');
  const [act] = sweepDecision(r, T(12), lease, 3);
  t.like(act, { kind: 'redrive', stage: 'convert', unit: 'main' });
  t.true(markRedriven(r, act as Extract<typeof act, { kind: 'redrive' }>, T(12), LEASE));
  t.like(r.stages.convert.units['main'], { status: 'pending', redrives: 1 });
  // the re-driven message runs it again (attempt 2), and it dies again, twice more
  beginUnit(r, 'convert', 'main', T(13), LEASE, 'b');
  beginUnit(r, 'convert', 'main', T(24), LEASE, 'c');
  t.is(r.stages.convert.units['main']!.attempts, 3);
  const [last] = sweepDecision(r, T(35), lease, 3);
  t.like(last, { kind: 'fail', stage: 'convert', unit: 'main', error: { code: 'E_STALLED', retryable: false } });
  t.regex(
    (last as { error: { message: string } }).error.message,
    /convert\/main did not finish within its 10 s lease, 3 times/,
  );
});

test('a pending unit of a quiet build is re-driven (its message was lost); a busy build is not', (t) => {
  const r = fresh();
  beginUnit(r, 'convert', 'main', T(1), LEASE, 'a');
  succeedUnit(r, 'convert', 'main', ok, T(2), 'a');
  r.stages.convert.handedOff = true;
  r.updatedAt = T(2);
  t.deepEqual(sweepDecision(r, T(6), lease, 3), []);
  const acts = sweepDecision(r, T(13), lease, 3);
  t.deepEqual(
    acts.map((a) => [a.kind, a.stage, a.unit]),
    [['redrive', 'quantize', 'main']],
  );
  // a re-drive writes the record, so the next sweep waits a lease again
  t.true(markRedriven(r, acts[0] as Extract<(typeof acts)[0], { kind: 'redrive' }>, T(13), LEASE));
  t.deepEqual(sweepDecision(r, T(20), lease, 3), []);
});

test('a completed stage whose hand-off never happened is re-driven through one of its units', (t) => {
  const r = fresh();
  beginUnit(r, 'convert', 'main', T(1), LEASE, 'a');
  succeedUnit(r, 'convert', 'main', ok, T(2), 'a');
  t.deepEqual(sweepDecision(r, T(5), lease, 3), [], 'the caller that completed it may still hand off');
  const [act] = sweepDecision(r, T(13), lease, 3);
  t.like(act, { kind: 'redrive', stage: 'convert', unit: 'main', why: 'stale hand-off' });
  t.true(markRedriven(r, act as Extract<typeof act, { kind: 'redrive' }>, T(13), LEASE));
  t.is(r.stages.convert.units['main']!.status, 'succeeded', 'a hand-off re-drive leaves the unit as it is');
});

test('finished builds are never touched', (t) => {
  const r = fresh();
  beginUnit(r, 'convert', 'main', T(1), LEASE, 'a');
  failUnit(r, 'convert', 'main', { code: 'E_SHAPE', message: 'bad', retryable: false }, 3, T(2), 'a');
  t.deepEqual(sweepDecision(r, T(100), lease, 3), []);
  t.false(failStalled(r, 'convert', 'main', { code: 'E_STALLED', message: 'x', retryable: false }, T(100), 'z'));
  t.is(r.error?.message, 'bad', 'the first failure stays');
});

test('failStalled makes the transition for one claim only, and again for it when replayed', (t) => {
  const r = fresh();
  beginUnit(r, 'convert', 'main', T(1), LEASE, 'a');
  const e = { code: 'E_STALLED', message: 'stalled', retryable: false };
  t.true(failStalled(r, 'convert', 'main', e, T(20), 'sweep-1'));
  t.like(r, { status: 'failed', failedBy: 'sweep-1', error: { stage: 'convert', code: 'E_STALLED' } });
  t.true(failStalled(r, 'convert', 'main', e, T(21), 'sweep-1'), 'a replayed transaction of the same claim');
  t.false(failStalled(r, 'convert', 'main', e, T(21), 'dead-letter-1'), 'another caller does not publish again');
});

test('a dead letter names the stage, the deliveries and the last error recorded', (t) => {
  const r = fresh();
  beginUnit(r, 'convert', 'main', T(1), LEASE, 'a');
  t.regex(
    deadLetterError(r, 'convert', 'main', 5).message,
    /convert\/main: Pub\/Sub gave up on the stage message after 5 deliveries; no error was recorded/,
  );
  failUnit(r, 'convert', 'main', { code: 'E_TRANSIENT', message: 'UNAVAILABLE: store', retryable: true }, 3, T(2), 'a');
  t.regex(deadLetterError(r, 'convert', 'main', 7).message, /after 7 deliveries; last error: UNAVAILABLE: store/);
});
