import test from 'ava';
import { deployPackageJson, FUNCTIONS_MAIN } from '../../deploy/functions/package-json.js';
import { outcomeOf, smokeObjectName, describeEvent, eventOf } from '../../deploy/smoke/outcome.js';
import { makeEvent, toPubsubMessage } from '../../shared/pipeline/events.js';

const lock = {
  packages: {
    'node_modules/zod': { version: '4.6.7' },
    'node_modules/firebase-admin': { version: '13.10.0' },
    'node_modules/tfjs-tflite-node': { version: '0.0.2' },
    'node_modules/ava': { version: '7.0.0' },
  },
};

test('the deployed package.json pins runtime dependencies to the locked versions and drops dev tools', (t) => {
  const pkg = deployPackageJson(
    {
      version: '1.2.3',
      dependencies: { zod: '^4.6.7', 'firebase-admin': '^13', 'tfjs-tflite-node': '^0.0.2' },
      devDependencies: { ava: '^7' },
    },
    lock,
  );
  t.is(pkg['type'], 'module');
  t.is(pkg['main'], FUNCTIONS_MAIN);
  t.deepEqual(pkg['dependencies'], { 'firebase-admin': '13.10.0', 'tfjs-tflite-node': '0.0.2', zod: '4.6.7' });
});

test('the deployed package.json refuses a dependency the lock file does not resolve', (t) => {
  t.throws(() => deployPackageJson({ dependencies: { sharp: '^0.35' } }, lock), { message: /sharp/ });
});

function event(kind: 'completed' | 'failed' | 'started', buildId: string) {
  const input = {
    bucket: 'b',
    object: 'smoke/x.tflite',
    generation: '1',
    kind: 'single-file' as const,
    uri: 'gs://b/smoke/x.tflite',
  };
  const data =
    kind === 'completed'
      ? {
          buildId,
          modelId: 'm',
          status: 'succeeded',
          input,
          artifacts: { 'a.json': 'gs://a/m/b/a.json' },
          summary: {},
          stageTimings: { convert: 5 },
        }
      : kind === 'failed'
        ? {
            buildId,
            modelId: 'm',
            status: 'failed',
            input,
            stage: 'verify',
            error: { code: 'E_INTERNAL', message: 'stage verify is not available in this build', retryable: false },
            artifacts: {},
          }
        : { buildId, modelId: 'm', input, config: {} };
  const e = makeEvent(kind, 'kiln-proj', data as never, '1970-01-01T00:00:00Z');
  const m = toPubsubMessage(e);
  return eventOf(m.data, m.attributes)!;
}

test("the smoke test ends on its own build's completed or failed event only", (t) => {
  t.deepEqual(outcomeOf(event('completed', 'b1'), 'b1'), {
    status: 'succeeded',
    artifacts: { 'a.json': 'gs://a/m/b/a.json' },
    stageTimings: { convert: 5 },
  });
  t.like(outcomeOf(event('failed', 'b1'), 'b1'), { status: 'failed', stage: 'verify', code: 'E_INTERNAL' });
  t.is(outcomeOf(event('started', 'b1'), 'b1'), undefined);
  t.is(outcomeOf(event('completed', 'other'), 'b1'), undefined);
  t.is(describeEvent(event('completed', 'other'), 'b1'), undefined);
  t.is(eventOf(Buffer.from('{}'), { 'ce-type': 'something.else' }), undefined);
});

test('smoke uploads go under the temporary prefix', (t) => {
  t.is(smokeObjectName('smoke', '1234-abc'), 'smoke/tiny-cnn-1234-abc.tflite');
  t.is(smokeObjectName('smoke', 'a/b c'), 'smoke/tiny-cnn-a-b-c.tflite');
});
