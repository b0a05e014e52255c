import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelBuilder } from '../../shared/toolchain/ir/builder.js';
import { compileFiles } from '../../shared/toolchain/edgetpu/artifacts.js';
import { ERRORS } from '../../shared/toolchain/edgetpu/strings.js';
import { bytesOf, conv, input } from './helpers.js';

// The docs/specs/edgetpu-compiler.md §7.3 failures that depend on the compiler process rather than on the model (a timer running out, a crash, the
// ≤15.0 "Internal compiler error") cannot be predicted; the runner and parser must still turn each of them into a
// failed compile with the compiler's exact words. An IR-built model goes through the real-compiler path with the
// replaying fake compiler.
const FIX = fileURLToPath(new URL('../fixtures/edgetpu/', import.meta.url));
const FAKE = join(FIX, 'fake-edgetpu-compiler.mjs');

function modelFile(): string {
  const b = new ModelBuilder();
  const x = input(b, 'image', [1, 8, 8, 4]);
  b.output(conv(b, x, 4, 8, 'conv1', { k: 3 }));
  const dir = mkdtempSync(join(tmpdir(), 'kiln-fail-'));
  const p = join(dir, 'tiny_int8.tflite');
  writeFileSync(p, bytesOf(b.build()));
  return p;
}

const cases: [string, string, string][] = [
  ['a v16 compile timeout', 'console-timeout.txt', ERRORS.timeout],
  ['a v16 crash', 'console-crash.txt', ERRORS.crash],
  ['a v15 internal compiler error', 'console-internal-error.txt', 'Internal compiler error. Aborting!'],
];

for (const [name, transcript, line] of cases) {
  test(`${name} from the real compiler fails the compile with the compiler's exact words`, async (t) => {
    const model = modelFile();
    const res = await compileFiles([model], {
      outDir: dirname(model),
      env: {
        PATH: dirname(process.execPath),
        KILN_EDGETPU_COMPILER: FAKE,
        FAKE_EDGETPU_CONSOLE: join(FIX, transcript),
        FAKE_EDGETPU_EXIT: '1',
      },
    });
    t.is(res.report.compiler.kind, 'edgetpu_compiler');
    t.is(res.report.status, 'failed');
    t.truthy(res.failure);
    t.true(res.failure!.message.includes(line.trim()), res.failure!.message);
    // Kiln's own prediction compiled this model, so the failure is recorded as a defect of the prediction.
    t.deepEqual(
      res.defects.map((d) => d.field),
      ['compiled'],
    );
  });
}
