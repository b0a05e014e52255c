import test from 'ava';
import { isKilnError } from '../../shared/common/errors.js';
import type { StageInput } from '../../shared/pipeline/core.js';
import { isolatedCore } from '../../shared/pipeline/cores/isolate.js';
import { errorInfo } from '../../shared/pipeline/errors.js';
import { deadlinePassed, withStageTimeout } from '../../shared/pipeline/limits.js';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Stage cores in a unit worker of their own: the deadline stops even synchronous work, results and errors survive. */
const FIXTURE = new URL('../fixtures/cores/unit-cores.ts', import.meta.url).href;
const core = (exportName: string) => isolatedCore('convert', { module: FIXTURE, exportName });
const input = (artifacts: [string, Uint8Array][] = []): StageInput => ({
  artifacts: new Map(artifacts),
  config: { compile: { targets: [{}] }, verify: { shards: 1 }, quantize: {} } as StageInput['config'],
  unit: { key: 'main', index: 0, count: 1, params: {} },
  build: { buildId: 'b', modelId: 'm', inputUri: 'gs://u/m.tflite', inputKind: 'single-file' },
});

test('a core spinning synchronously in its worker is stopped when its signal aborts', async (t) => {
  const marker = join(mkdtempSync(join(tmpdir(), 'kiln-spin-')), 'marker');
  process.env['KILN_TEST_SPIN_MARKER'] = marker;
  const deadline = new AbortController();
  const running = core('spin')({ ...input(), signal: deadline.signal });
  while (!existsSync(marker)) await new Promise((r) => setTimeout(r, 20));
  // the worker is inside an endless synchronous loop now; a still-running thread would keep this test process alive
  deadline.abort(deadlinePassed('convert', 300, true));
  await t.throwsAsync(running, { message: /convert ran past its 300 ms deadline/ });
});

test('withStageTimeout aborts at the deadline and the unit fails with the reason', async (t) => {
  const timed = withStageTimeout('convert', core('spin'), () => 300);
  const e = await t.throwsAsync(timed(input()));
  t.true(isKilnError(e));
  t.regex(e!.message, /^convert ran past its 300 ms deadline \(KILN_STAGE_TIMEOUT_MS\)$/);
  t.regex(errorInfo(e).message, /Upload a smaller model/);
  t.false(errorInfo(e).retryable, 'a unit past its deadline is not retried');
});

test('the output and the summary come back from the worker intact', async (t) => {
  const a = new Uint8Array([1, 2, 3, 4]);
  const out = await withStageTimeout('convert', core('echo'), () => 60_000)(input([['x.bin', a]]));
  t.deepEqual([...out.artifacts['out/x.bin']!], [4, 3, 2, 1]);
  t.deepEqual(out.summary, { unit: 'main', count: 1 });
  t.deepEqual([...a], [1, 2, 3, 4], "the caller's input is untouched");
});

test('errors keep their code, hint and retry class across the thread', async (t) => {
  const bad = await t.throwsAsync(core('refuses')(input()));
  t.like(errorInfo(bad), { code: 'E_SHAPE', retryable: false });
  t.regex(errorInfo(bad).message, /input 0 has shape \[1,2\]\. Give it shape \[1,3\]/);
  const flaky = await t.throwsAsync(core('crashes')(input()));
  t.like(errorInfo(flaky), { code: 'E_TRANSIENT', retryable: true });
});

test('KILN_UNIT_ISOLATION=worker runs the real stage cores in a worker, with the same output as in-process', async (t) => {
  const { STAGE_CORES } = await import('../../shared/pipeline/cores/index.js');
  const { tinyCnnTflite } = await import('../../shared/toolchain/samples/tiny-cnn.js');
  const upload = input([['upload/m.tflite', tinyCnnTflite(3)]]);
  const before = process.env['KILN_UNIT_ISOLATION'];
  try {
    process.env['KILN_UNIT_ISOLATION'] = 'none';
    const here = await STAGE_CORES.convert!(upload);
    process.env['KILN_UNIT_ISOLATION'] = 'worker';
    const there = await STAGE_CORES.convert!(upload);
    t.deepEqual(Object.keys(there.artifacts).sort(), Object.keys(here.artifacts).sort());
    t.deepEqual(there.artifacts['model.float.tflite'], here.artifacts['model.float.tflite']);
    t.deepEqual(there.summary, here.summary);
  } finally {
    if (before === undefined) delete process.env['KILN_UNIT_ISOLATION'];
    else process.env['KILN_UNIT_ISOLATION'] = before;
  }
});

test.serial(
  'a unit worker that finished cleanly runs the next unit of its kind; one that was stopped or died is never reused',
  async (t) => {
    const where = core('whereAmI');
    const thread = async (): Promise<unknown> => (await where(input())).summary['threadId'];
    const first = await thread();
    t.is(await thread(), first, 'the warm worker ran the second unit');
    // An error the core threw is a clean end too.
    await t.throwsAsync(where(input([['refuse', new Uint8Array(1)]])), { message: 'refused' });
    t.is(await thread(), first);

    // Another kind of core never gets this worker.
    const exiting = isolatedCore('convert', { module: FIXTURE, exportName: 'exits' });
    await t.throwsAsync(exiting(input()), { message: /exited \(code 3\) without a result/ });
    await t.throwsAsync(exiting(input()), { message: /exited \(code 3\)/ }, 'a fresh worker, which exits again');

    // A unit stopped at its deadline takes its worker with it.
    const marker = join(mkdtempSync(join(tmpdir(), 'kiln-spin-')), 'marker');
    process.env['KILN_TEST_SPIN_MARKER'] = marker;
    const spinning = core('spin');
    const deadline = new AbortController();
    const running = spinning({ ...input(), signal: deadline.signal });
    while (!existsSync(marker)) await new Promise((r) => setTimeout(r, 20));
    deadline.abort(deadlinePassed('convert', 300, true));
    await t.throwsAsync(running);
    // The environment changed (KILN_TEST_SPIN_MARKER): a new worker, whose thread differs from the first.
    const after = await thread();
    t.not(after, first);
    t.is(await thread(), after);
    delete process.env['KILN_TEST_SPIN_MARKER'];
  },
);
