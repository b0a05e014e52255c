import test from 'ava';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KilnError } from '../../shared/common/errors.js';
import { parseBuildConfig } from '../../shared/pipeline/build-config.js';
import { decodeDataset } from '../../shared/toolchain/train/dataset/decode.js';
import {
  bucketDatasetFiles,
  localDatasetFiles,
  memoryDatasetFiles,
} from '../../shared/toolchain/train/dataset/files.js';
import { looksLikeDataset, readDataset } from '../../shared/toolchain/train/dataset/read-dataset.js';
import { shapeFiles, shapePng, writeFiles } from '../helpers/image-sets.js';

const CAL = { fit: 'squash', channelOrder: 'RGB' } as const;
const png = (c: number, i: number) => shapePng(c, i, 24);

async function tempDir(t: { teardown: (f: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-dataset-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function badDataset(files: DatasetInput, where: { bucket?: string; prefix?: string } = {}): Promise<KilnError> {
  const e = await readDataset(memoryDatasetFiles('ds/', files, where)).catch((x: unknown) => x);
  if (!(e instanceof KilnError)) throw new Error(`expected a KilnError, got ${String(e)}`);
  return e;
}
type DatasetInput = Map<string, Uint8Array>;

test('class folders: classes sorted, every image labelled, splits made per class and deterministic', async (t) => {
  const files = await shapeFiles(10, 24);
  const a = await readDataset(memoryDatasetFiles('ds/', files), { seed: 3 });
  t.is(a.layout, 'class-folders');
  t.deepEqual(a.classes, ['disc', 'hstripes', 'vstripes']);
  t.deepEqual(a.counts, { disc: 10, hstripes: 10, vstripes: 10 });
  t.is(a.splits.train.length + a.splits.validation.length + a.splits.test.length, 30);
  for (const c of a.classes) {
    t.is(a.splits.test.filter((i) => i.label === c).length, 1, `one test image of ${c}`);
    t.is(a.splits.validation.filter((i) => i.label === c).length, 1);
  }
  for (const s of [a.splits.train, a.splits.validation, a.splits.test])
    for (const i of s) t.true(i.path.startsWith(`${i.label}/`));
  // Same seed, listing in another order: same split. Another seed: another split.
  const reversed = new Map([...files].reverse());
  const b = await readDataset(memoryDatasetFiles('ds/', reversed), { seed: 3 });
  t.deepEqual(b.splits, a.splits);
  const c = await readDataset(memoryDatasetFiles('ds/', files), { seed: 4 });
  t.notDeepEqual(c.splits.test, a.splits.test);
  t.true(a.warnings.some((w) => w.includes('few training images')));
});

test('split folders are kept; a missing test split is made from train', async (t) => {
  const files = new Map([
    ...(await shapeFiles(8, 24, { prefix: 'train' })),
    ...(await shapeFiles(2, 24, { prefix: 'validation' })),
  ]);
  const d = await readDataset(memoryDatasetFiles('ds/', files));
  t.is(d.layout, 'split-folders');
  t.is(d.splits.validation.length, 6);
  t.true(d.splits.validation.every((i) => i.path.startsWith('validation/')));
  t.is(d.splits.test.length, 3);
  t.true(d.splits.test.every((i) => i.path.startsWith('train/')));
  t.is(d.splits.train.length, 21);
});

test('CSV layout with sets, relative paths and gs:// paths in the same bucket and prefix', async (t) => {
  const imgs = await shapeFiles(7, 24, { prefix: 'images' });
  const lines = [...imgs.keys()].map((p, i) => {
    const label = p.split('/')[1]!;
    const set = i % 7 === 0 ? 'TEST,' : i % 7 === 1 ? 'VALIDATION,' : i % 7 === 2 ? 'UNASSIGNED,' : 'TRAIN,';
    const path = i % 2 === 0 ? p : `gs://uploads/sets/flowers/${p}`;
    return `${set}${path},${label}`;
  });
  const files = new Map([...imgs, ['data.csv', new TextEncoder().encode(`${lines.join('\n')}\n`)]]);
  const d = await readDataset(
    memoryDatasetFiles('gs://uploads/sets/flowers/', files, { bucket: 'uploads', prefix: 'sets/flowers/' }),
  );
  t.is(d.layout, 'csv');
  t.deepEqual(d.classes, ['disc', 'hstripes', 'vstripes']);
  t.is(d.splits.test.length, 3);
  t.is(d.splits.validation.length, 3);
  t.is(d.splits.train.length, 15);
  t.true(d.splits.test.every((i) => i.path.startsWith('images/')));
});

test('one class only is an error that says to add another class', async (t) => {
  const e = await badDataset(await shapeFiles(10, 24, { classes: 1 }));
  t.is(e.kind, 'bad-input');
  t.regex(e.message, /only one class \(disc\)/);
  t.regex(e.message, /at least two/);
});

test('an empty class folder is named', async (t) => {
  const dir = await tempDir(t);
  await writeFiles(dir, await shapeFiles(8, 24, { classes: 2 }));
  await mkdir(join(dir, 'cats'));
  await writeFile(join(dir, 'cats', 'notes.txt'), 'no images here');
  const e = await readDataset(localDatasetFiles(dir)).catch((x: KilnError) => x);
  t.true(e instanceof KilnError);
  t.regex((e as KilnError).message, /class folder\(s\) cats .* hold no images/);
});

test('too few images per class is an error below the floor, a warning below the comfort level; imbalance warns with counts', async (t) => {
  const files = await shapeFiles(3, 24);
  const e = await badDataset(files);
  t.regex(e.message, /too few training images: disc has \d/);
  const more = new Map([
    ...(await shapeFiles(40, 24, { classes: 1 })),
    ...[...(await shapeFiles(8, 24))].filter(([p]) => !p.startsWith('disc/')),
  ]);
  const d = await readDataset(memoryDatasetFiles('ds/', more));
  t.true(
    d.warnings.some((w) => /imbalanced \(disc: 40, hstripes: 8, vstripes: 8\)/.test(w)),
    d.warnings.join(' | '),
  );
});

test('a corrupt image is skipped with a warning naming it; mixed sizes warn; a class emptied by corrupt images fails', async (t) => {
  const files = await shapeFiles(8, 24);
  files.set('disc/broken.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
  files.set('hstripes/big.png', await shapePng(1, 99, 40));
  const ds = memoryDatasetFiles('ds/', files);
  const d = await readDataset(ds);
  const decoded = await decodeDataset(ds, d, { height: 16, width: 16, channels: 3 }, CAL);
  t.true(
    decoded.warnings.some((w) => w.includes('disc/broken.png') && w.includes('could not be decoded')),
    decoded.warnings.join(' | '),
  );
  t.true(
    decoded.warnings.some((w) => /2 sizes \(24x24: \d+, 40x40: 1\)/.test(w)),
    decoded.warnings.join(' | '),
  );
  const all = [...decoded.train.pixels, ...decoded.validation.pixels, ...decoded.test.pixels];
  t.true(all.every((p) => p.length === 16 * 16 * 3));
  t.is(all.length, 25);

  const few = await shapeFiles(8, 24);
  for (let i = 0; i < 8; i++) few.set(`disc/img-00${i}.png`, new Uint8Array([1, 2, 3]));
  const fds = memoryDatasetFiles('ds/', few);
  const e = await decodeDataset(fds, await readDataset(fds), { height: 16, width: 16, channels: 3 }, CAL).catch(
    (x: KilnError) => x,
  );
  t.true(e instanceof KilnError);
  t.regex((e as KilnError).message, /unreadable images.*disc/);
});

test('a CSV naming missing files is an error naming the lines', async (t) => {
  const imgs = await shapeFiles(6, 24);
  const csv = [...imgs.keys()].map((p) => `${p},${p.split('/')[0]}`);
  csv.push('disc/gone.png,disc', 'vstripes/nope.jpg,vstripes');
  const e = await badDataset(new Map([...imgs, ['set.csv', new TextEncoder().encode(csv.join('\n'))]]));
  t.regex(
    e.message,
    /names 2 file\(s\) that are not in the dataset \(line 19: disc\/gone.png, line 20: vstripes\/nope.jpg\)/,
  );
});

test('path tricks in a CSV or its labels, and gs:// of another bucket, are refused before anything is read', async (t) => {
  const imgs = await shapeFiles(6, 24);
  const ok = [...imgs.keys()].map((p) => `${p},${p.split('/')[0]}`);
  const cases: [string, RegExp][] = [
    ['../secret/a.png,disc', /\.\.\/secret\/a.png contains "\.\."/],
    ['disc/../../etc/passwd.png,disc', /contains "\.\."/],
    ['/etc/hosts.png,disc', /is an absolute path/],
    ['gs://other-bucket/sets/x.png,disc', /names the bucket other-bucket, not the dataset's bucket uploads/],
    ['gs://uploads/elsewhere/x.png,disc', /outside the dataset folder gs:\/\/uploads\/sets\//],
    ['disc/img-000.png,../escape', /label "\.\.\/escape" contains a path separator/],
    ['disc/img-000.png,..', /label "\.\." is "\.\."/],
  ];
  for (const [line, want] of cases) {
    const files = new Map([...imgs, ['set.csv', new TextEncoder().encode([...ok, line].join('\n'))]]);
    const reads: string[] = [];
    const base = memoryDatasetFiles('gs://uploads/sets/', files, { bucket: 'uploads', prefix: 'sets/' });
    const spy = { ...base, read: (p: string) => (reads.push(p), base.read(p)) };
    const e = await readDataset(spy).catch((x: unknown) => x);
    t.true(e instanceof KilnError, line);
    t.regex((e as KilnError).message, want, line);
    t.deepEqual(reads, ['set.csv'], 'only the CSV was read');
  }
  // A local dataset cannot name gs:// paths at all.
  const local = new Map([
    ...imgs,
    ['set.csv', new TextEncoder().encode([...ok, 'gs://uploads/x.png,disc'].join('\n'))],
  ]);
  t.regex((await badDataset(local)).message, /the dataset is a local folder/);
});

test('a symbolic link out of the dataset folder is named and never read', async (t) => {
  const dir = await tempDir(t);
  const outside = await tempDir(t);
  await writeFiles(dir, await shapeFiles(8, 24, { classes: 2 }));
  await writeFile(join(outside, 'secret.png'), await png(0, 1));
  await symlink(join(outside, 'secret.png'), join(dir, 'disc', 'link.png'));
  const e = await readDataset(localDatasetFiles(dir)).catch((x: KilnError) => x);
  t.true(e instanceof KilnError);
  t.regex((e as KilnError).message, /symbolic links that lead outside its folder \(disc\/link.png\)/);
  // A link inside the folder is fine.
  await rm(join(dir, 'disc', 'link.png'));
  await symlink(join(dir, 'disc', 'img-000.png'), join(dir, 'disc', 'alias.png'));
  const d = await readDataset(localDatasetFiles(dir));
  t.is(d.counts['disc'], 9);
});

test('kiln.json accepts a train block with defaults and refuses a wrong route', (t) => {
  const c = parseBuildConfig({ train: { base: 'base.tflite' } }, 8);
  t.is(c.train?.route, 'transfer');
  t.is(c.train?.epochs, 60);
  t.is(c.train?.imprint, false);
  t.is(c.train?.augmentation.copies, 0);
  t.throws(() => parseBuildConfig({ train: { route: 'magic' } }, 8), { message: /train.route/ });
  t.throws(() => parseBuildConfig({ train: { epochs: 0 } }, 8), { message: /train.epochs/ });
});

test('looksLikeDataset: class folders of images yes, a SavedModel folder no', (t) => {
  t.true(looksLikeDataset(['a/1.png', 'a/2.jpg', 'b/1.png'], false));
  t.false(
    looksLikeDataset(['saved_model.pb', 'variables/variables.index', 'variables/variables.data-00000-of-00001'], false),
  );
  t.true(looksLikeDataset(['data.csv'], true));
  // A model folder with its validation images stays a model upload.
  t.false(looksLikeDataset(['saved_model.pb', 'validation/cat/1.jpg', 'validation/dog/1.jpg'], false));
  t.false(looksLikeDataset(['validation/cat/1.jpg', 'validation/dog/1.jpg'], false));
  t.false(looksLikeDataset(['model.tflite', 'cat/1.jpg', 'dog/1.jpg'], false));
  t.true(looksLikeDataset(['train/cat/1.jpg', 'train/dog/1.jpg', 'test/cat/2.jpg'], false));
});

test('a bucket prefix reads through the same code: gs:// paths of its own prefix, nothing else listed is readable', async (t) => {
  const objects = new Map<string, Uint8Array>();
  for (const [p, b] of await shapeFiles(8, 24)) objects.set(`uploads/flowers/${p}`, b);
  objects.set('uploads/other/secret.png', await png(0, 1));
  const csv = [...objects.keys()]
    .filter((n) => n.startsWith('uploads/flowers/'))
    .map((n) => `gs://kiln-uploads/${n},${n.split('/')[2]}`);
  objects.set('uploads/flowers/set.csv', new TextEncoder().encode(csv.join('\n')));
  const listed: string[] = [];
  const files = bucketDatasetFiles({
    bucket: 'kiln-uploads',
    prefix: 'uploads/flowers',
    list: (prefix) => {
      listed.push(prefix);
      return Promise.resolve([...objects.keys()].filter((n) => n.startsWith(prefix)));
    },
    read: (name) => Promise.resolve(objects.get(name)!),
  });
  const d = await readDataset(files);
  t.deepEqual(listed, ['uploads/flowers/']);
  t.is(d.label, 'gs://kiln-uploads/uploads/flowers/');
  t.deepEqual(d.counts, { disc: 8, hstripes: 8, vstripes: 8 });
  await t.throwsAsync(files.read('../other/secret.png'), { message: /is not an object of the dataset/ });
});
