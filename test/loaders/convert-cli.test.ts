import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Command } from 'commander';
import { exitCodeFor, KilnError } from '../../shared/common/errors.js';
import { register, runConvert } from '../../shared/cli/commands/convert.js';
import { readTflite } from '../../shared/toolchain/tflite/reader.js';
import { FRONTENDS_DIR, haveModels } from '../helpers/models.js';
import { writeTarGz, writeZip } from './helpers/archives.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'kiln-convert-'));

function filesUnder(dir: string): { name: string; data: Uint8Array }[] {
  const out: { name: string; data: Uint8Array }[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push({ name: relative(dir, p), data: readFileSync(p) });
    }
  };
  walk(dir);
  return out;
}

const maybe = haveModels ? test : test.skip;

maybe(
  'a SavedModel as .zip and .tar.gz, a TF.js model as a folder and a Keras .h5 all go through `kiln convert`',
  async (t) => {
    const dir = tmp();
    const saved = join(FRONTENDS_DIR, 'savedmodel/tfjs_test_objects/times_three_float');
    const zip = join(dir, 'saved.zip');
    writeFileSync(
      zip,
      writeZip(filesUnder(saved).map((f) => ({ name: `my_model/${f.name}`, data: f.data, deflate: true }))),
    );
    const tgz = join(dir, 'saved.tar.gz');
    writeFileSync(tgz, writeTarGz(filesUnder(saved).map((f) => ({ name: `export/1/${f.name}`, data: f.data }))));
    const cases = [
      { input: zip, format: 'savedmodel', packaging: 'zip', entry: 'my_model/saved_model.pb' },
      { input: tgz, format: 'savedmodel', packaging: 'tar.gz', entry: 'export/1/saved_model.pb' },
      {
        input: join(FRONTENDS_DIR, 'tfjs_layers/nsfwjs_mobilenet_v2'),
        format: 'tfjs-layers',
        packaging: 'folder',
        entry: 'model.json',
      },
      {
        input: join(FRONTENDS_DIR, 'keras_h5/oarriaga/fer2013_mini_XCEPTION.102-0.66.hdf5'),
        format: 'keras-h5',
        packaging: 'file',
        entry: 'fer2013_mini_XCEPTION.102-0.66.hdf5',
      },
    ];
    for (const c of cases) {
      const out = join(dir, `${c.format}-${c.packaging}.tflite`);
      const r = await runConvert(c.input, { output: out });
      t.is(r.result.format as string, c.format);
      t.is(r.result.packaging as string, c.packaging);
      t.is(r.result.entry, c.entry);
      const written = readFileSync(out);
      t.is(written.length, r.bytes);
      const m = readTflite(new Uint8Array(written));
      t.is(
        m.subgraphs[0]!.operators.length,
        Object.values(r.result.ops).reduce((a, b) => a + b, 0),
      );
    }
  },
);

maybe('--inputs/--outputs cut the KWS graph; without them the command refuses (exit code 2)', async (t) => {
  const dir = tmp();
  const pb = join(FRONTENDS_DIR, 'frozen_graphdef/arm_ml_kws/CNN_S.pb');
  const r = await runConvert(pb, {
    output: join(dir, 'kws.tflite'),
    inputs: 'Mfcc:1,49,10',
    outputs: 'labels_softmax',
  });
  t.deepEqual(r.result.inputs, [{ name: 'Mfcc', dtype: 'float32', shape: [1, 49, 10] }]);
  t.deepEqual(r.result.outputs, [{ name: 'labels_softmax', dtype: 'float32', shape: [1, 12] }]);
  const e = await t.throwsAsync(runConvert(pb, { output: join(dir, 'no.tflite') }), { instanceOf: KilnError });
  t.is(exitCodeFor(e), 2);
  t.throws(() => statSync(join(dir, 'no.tflite')));
});

test('the convert command registers with its flags and rejects a missing -o', async (t) => {
  const program = new Command('kiln').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  register(program);
  const cmd = program.commands.find((c) => c.name() === 'convert')!;
  t.truthy(cmd);
  t.deepEqual(cmd.options.map((o) => o.long).sort(), [
    '--input-layout',
    '--inputs',
    '--json',
    '--output',
    '--outputs',
    '--signature',
  ]);
  await t.throwsAsync(program.parseAsync(['convert', 'x.h5'], { from: 'user' }), { message: /required option/ });
});

test('a missing input is a bad-input error', async (t) => {
  const e = await t.throwsAsync(runConvert(join(tmp(), 'nope.h5'), { output: join(tmp(), 'x.tflite') }), {
    instanceOf: KilnError,
  });
  t.is(e!.code, 'E_FILE_NOT_FOUND');
  t.is(exitCodeFor(e), 2);
});
