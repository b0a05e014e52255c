import test from 'ava';
import { parseBuildConfig } from '../../shared/pipeline/build-config.js';
import {
  beginUnit,
  earlyDelivery,
  failUnit,
  newBuild,
  releaseUnit,
  succeedUnit,
} from '../../shared/pipeline/build-state.js';
import { SINGLE_FILE_UPLOAD, T } from '../helpers/builds.js';

/** The build-state decisions behind the delivery-fault fixes, as pure functions. */
const input = SINGLE_FILE_UPLOAD;

test('a delivery for a unit running under its lease asks for redelivery; after the lease it runs again', (t) => {
  const r = newBuild('b', 'm', input, parseBuildConfig({}, 8), T(0));
  t.like(beginUnit(r, 'convert', 'main', T(1), 10_000, 'a'), { action: 'run', attempt: 1 });
  t.like(beginUnit(r, 'convert', 'main', T(5), 10_000, 'b'), { action: 'skip', redeliver: true });
  t.like(beginUnit(r, 'convert', 'main', T(12), 10_000, 'c'), { action: 'run', attempt: 2 });
});

test('a delivery for a stage whose previous stage has not completed is early: redeliver, never run', (t) => {
  const r = newBuild('b', 'm', input, parseBuildConfig({}, 8), T(0));
  t.like(earlyDelivery(r, 'compile'), { action: 'skip', redeliver: true });
  t.is(earlyDelivery(r, 'convert'), undefined);
  beginUnit(r, 'convert', 'main', T(1), 10_000, 'a');
  succeedUnit(r, 'convert', 'main', { artifacts: {}, summary: {} }, T(2), 'a');
  t.is(earlyDelivery(r, 'quantize'), undefined);
  t.like(earlyDelivery(r, 'compile'), { redeliver: true });
  // a finished build: no redelivery (the message is acknowledged and skipped)
  r.status = 'failed';
  t.is(earlyDelivery(r, 'compile'), undefined);
  t.like(beginUnit(r, 'compile', 'default', T(3), 10_000, 'b'), { action: 'skip' });
  t.falsy((beginUnit(r, 'compile', 'default', T(3), 10_000, 'b') as { redeliver?: boolean }).redeliver);
});

test('a transaction replayed after it committed (ambiguous commit) keeps its outcome for the same claim only', (t) => {
  const r = newBuild('b', 'm', input, parseBuildConfig({}, 8), T(0));
  t.like(beginUnit(r, 'convert', 'main', T(1), 10_000, 'a'), { action: 'run', attempt: 1 });
  // the claim's own begin, applied again: it still runs, and is not counted as a second attempt
  t.like(beginUnit(r, 'convert', 'main', T(2), 10_000, 'a'), { action: 'run', attempt: 1 });
  t.like(beginUnit(r, 'convert', 'main', T(2), 10_000, 'b'), { action: 'skip', redeliver: true });
  const ok = { artifacts: { 'convert/model.tflite': 'gs://a/x' }, summary: {} };
  t.true(succeedUnit(r, 'convert', 'main', ok, T(3), 'a').stageCompleted);
  // replayed success of the completing claim: it still owns the hand-off until that is recorded
  t.true(succeedUnit(r, 'convert', 'main', ok, T(4), 'a').stageCompleted);
  t.false(succeedUnit(r, 'convert', 'main', ok, T(4), 'b').stageCompleted, 'another delivery never hands off');
  r.stages.convert.handedOff = true;
  t.false(succeedUnit(r, 'convert', 'main', ok, T(5), 'a').stageCompleted, 'once handed off, never again');
  t.is(r.stages.convert.units['main']!.finishedAt, T(3), 'replays change nothing');
});

test('a delivery that cannot record its result releases its own lease, and only its own', (t) => {
  const r = newBuild('b', 'm', input, parseBuildConfig({}, 8), T(0));
  beginUnit(r, 'convert', 'main', T(1), 600_000, 'a');
  t.false(releaseUnit(r, 'convert', 'main', 'b'), 'a duplicate cannot release the lease of the running delivery');
  t.like(beginUnit(r, 'convert', 'main', T(2), 600_000, 'b'), { action: 'skip', redeliver: true });
  t.true(releaseUnit(r, 'convert', 'main', 'a'));
  // the redelivery runs at once, long before the lease would have run out
  t.like(beginUnit(r, 'convert', 'main', T(3), 600_000, 'c'), { action: 'run', attempt: 2 });
  succeedUnit(r, 'convert', 'main', { artifacts: {}, summary: {} }, T(4), 'c');
  t.false(releaseUnit(r, 'convert', 'main', 'c'), 'a unit that succeeded is never released');
});

test('only the delivery that failed the build publishes its failure, also when its transaction is replayed', (t) => {
  const r = newBuild('b', 'm', input, parseBuildConfig({}, 8), T(0));
  const bad = { code: 'E_TFLITE_MALFORMED', message: 'corrupt', retryable: false };
  beginUnit(r, 'convert', 'main', T(1), 600_000, 'a');
  t.is(failUnit(r, 'convert', 'main', bad, 3, T(2), 'a').outcome, 'build-failed');
  t.is(r.failedBy, 'a');
  // a replay of the same transaction (committed, reported failed) still owns the publication
  t.is(failUnit(r, 'convert', 'main', bad, 3, T(3), 'a').outcome, 'build-failed');
  t.is(r.finishedAt, T(2), 'the replay changes nothing');
  // any other delivery that reaches the failure path (the build had already ended) does not publish
  t.is(failUnit(r, 'convert', 'main', bad, 3, T(3), 'b').outcome, 'ignored');
});
