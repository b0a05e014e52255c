import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { unitLine } from '../../shared/cli/commands/build.js';
import { eventLine } from '../../shared/cli/commands/upload.js';
import { Progress, progressWanted } from '../../shared/cli/progress.js';
import { makeEvent } from '../../shared/pipeline/events.js';
import { tinyCnnTflite } from '../../shared/toolchain/samples/tiny-cnn.js';
import { kiln } from '../helpers/cli.js';

/** Progress of the long CLI commands: on stderr, on a terminal or with KILN_PROGRESS=1, never on stdout. */
function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  const w = new Writable({
    write(chunk, _enc, done) {
      out += String(chunk);
      done();
    },
  });
  return { stream: w as unknown as NodeJS.WriteStream, text: () => out };
}

test('KILN_PROGRESS forces progress on or off; otherwise a terminal decides', (t) => {
  const tty = { isTTY: true } as NodeJS.WriteStream;
  const pipe = { isTTY: false } as NodeJS.WriteStream;
  t.true(progressWanted({}, tty));
  t.false(progressWanted({}, pipe));
  t.true(progressWanted({ KILN_PROGRESS: '1' }, pipe));
  t.false(progressWanted({ KILN_PROGRESS: '0' }, tty));
});

test('without a terminal a phase is one line when it starts and one when it ends; steps are lines', (t) => {
  const s = sink();
  const p = new Progress('verify', true, s.stream);
  p.update('accuracy', 0, 3);
  p.update('accuracy', 2, 3);
  p.update('accuracy', 3, 3);
  p.step('report written');
  p.stop();
  t.is(s.text(), 'kiln verify: accuracy: 3 to do\nkiln verify: accuracy: done (3)\nkiln verify: report written\n');
  const off = sink();
  const q = new Progress('verify', false, off.stream);
  q.update('accuracy', 1, 3);
  q.step('x');
  t.is(off.text(), '');
});

test('unit and event lines name the stage, the unit of a fan-out, the time and the error', (t) => {
  t.is(unitLine({ stage: 'quantize', unit: 'main', count: 1, state: 'started' }), 'quantize …');
  t.is(
    unitLine({ stage: 'compile', unit: 'm13', count: 2, state: 'succeeded', ms: 4100 }),
    'compile m13 done in 4.1 s',
  );
  t.is(
    unitLine({ stage: 'convert', unit: 'main', count: 1, state: 'failed', error: 'E_SHAPE: bad' }),
    'convert failed: E_SHAPE: bad',
  );
  const ok = makeEvent(
    'stageSucceeded',
    'p',
    { buildId: 'b', modelId: 'm', stage: 'verify', durationMs: 150_000, artifacts: {}, summary: {} },
    '2026-01-01T00:00:00Z',
    'verify',
  );
  t.is(eventLine(ok), 'verify done in 2 min 30 s');
});

test('kiln build with KILN_PROGRESS=1 prints a line per stage on stderr and keeps stdout JSON', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-progress-'));
  const model = join(dir, 'm.tflite');
  writeFileSync(model, tinyCnnTflite(5));
  const r = kiln(['build', model, '-o', join(dir, 'out'), '--json'], { env: { KILN_PROGRESS: '1' } });
  t.is(r.status, 0, r.stderr);
  t.notThrows(() => JSON.parse(r.stdout));
  for (const stage of ['convert', 'quantize', 'compile', 'verify'])
    t.regex(r.stderr, new RegExp(`^kiln build: ${stage} done in \\d+\\.\\d s$`, 'm'));
  const quiet = kiln(['build', model, '-o', join(dir, 'out2'), '--json'], { env: { KILN_PROGRESS: '0' } });
  t.notRegex(quiet.stderr, /kiln build:/);
});
