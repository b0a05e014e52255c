import test from 'ava';
import { parseBuildConfig } from '../../shared/pipeline/build-config.js';
import { beginUnit, earlyDelivery, newBuild, succeedUnit } from '../../shared/pipeline/build-state.js';
import type { UploadRef } from '../../shared/pipeline/messages.js';

/** The build-state decisions behind the delivery-fault fixes, as pure functions. */
const input: UploadRef = {
  bucket: 'u',
  object: 'm.tflite',
  generation: '1',
  kind: 'single-file',
  uri: 'gs://u/m.tflite',
  format: 'tflite',
};
const T = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

test('a delivery for a unit running under its lease asks for redelivery; after the lease it runs again', (t) => {
  const r = newBuild('b', 'm', input, parseBuildConfig({}, 8), T(0));
  t.like(beginUnit(r, 'convert', 'main', T(1), 10_000), { action: 'run', attempt: 1 });
  t.like(beginUnit(r, 'convert', 'main', T(5), 10_000), { action: 'skip', redeliver: true });
  t.like(beginUnit(r, 'convert', 'main', T(12), 10_000), { action: 'run', attempt: 2 });
});

test('a delivery for a stage whose previous stage has not completed is early: redeliver, never run', (t) => {
  const r = newBuild('b', 'm', input, parseBuildConfig({}, 8), T(0));
  t.like(earlyDelivery(r, 'compile'), { action: 'skip', redeliver: true });
  t.is(earlyDelivery(r, 'convert'), undefined);
  beginUnit(r, 'convert', 'main', T(1), 10_000);
  succeedUnit(r, 'convert', 'main', { artifacts: {}, summary: {} }, T(2));
  t.is(earlyDelivery(r, 'quantize'), undefined);
  t.like(earlyDelivery(r, 'compile'), { redeliver: true });
  // a finished build: no redelivery (the message is acknowledged and skipped)
  r.status = 'failed';
  t.is(earlyDelivery(r, 'compile'), undefined);
  t.like(beginUnit(r, 'compile', 'default', T(3), 10_000), { action: 'skip' });
  t.falsy((beginUnit(r, 'compile', 'default', T(3), 10_000) as { redeliver?: boolean }).redeliver);
});
