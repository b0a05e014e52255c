import test from 'ava';
import { gunzipSync } from 'node:zlib';
import { readTar, readTarGz } from '../../shared/toolchain/loaders/archive/tar.js';
import { readZip } from '../../shared/toolchain/loaders/archive/zip.js';
import { safeRelativePath } from '../../shared/toolchain/loaders/archive/safe-path.js';
import { DEFAULT_LIMITS } from '../../shared/toolchain/loaders/limits.js';
import { KilnError } from '../../shared/common/errors.js';
import { writeTarGz, writeZip } from './helpers/archives.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

test('a zip unpacks in memory: stored and deflated entries, folders skipped, paths normalized', (t) => {
  const zip = writeZip([
    { name: 'model/', data: new Uint8Array(0) },
    { name: 'model/saved_model.pb', data: bytes('graph'), deflate: true },
    { name: 'model/./variables/variables.index', data: bytes('index') },
  ]);
  const files = readZip(zip);
  t.deepEqual([...files.keys()].sort(), ['model/saved_model.pb', 'model/variables/variables.index']);
  t.is(text(files.get('model/saved_model.pb')), 'graph');
  t.is(text(files.get('model/variables/variables.index')), 'index');
});

for (const [name, why] of [
  ['../evil.txt', /climbs out/],
  ['model/../../evil.txt', /climbs out/],
  ['/etc/passwd', /absolute/],
  ['C:/windows/evil.dll', /drive/],
  ['..\\evil.txt', /climbs out/],
] as const) {
  test(`zip-slip: an entry named ${JSON.stringify(name)} is refused`, (t) => {
    const e = t.throws(() => readZip(writeZip([{ name, data: bytes('x') }])), { instanceOf: KilnError });
    t.is(e?.code, 'E_BAD_ARGUMENT');
    t.regex(e!.message, why);
  });
}

test('a symlink entry in a zip is refused', (t) => {
  const e = t.throws(() => readZip(writeZip([{ name: 'link', data: bytes('/etc/passwd'), mode: 0o120777 }])), {
    instanceOf: KilnError,
  });
  t.regex(e!.message, /symbolic link/);
});

test('zip limits: entry count, entry size and compression ratio', (t) => {
  const many = writeZip(Array.from({ length: 5 }, (_v, i) => ({ name: `f${i}`, data: bytes('x') })));
  t.throws(() => readZip(many, { ...DEFAULT_LIMITS, maxEntries: 4 }), { message: /5 entries/ });
  t.throws(
    () => readZip(writeZip([{ name: 'big', data: new Uint8Array(100) }]), { ...DEFAULT_LIMITS, maxEntryBytes: 99 }),
    { message: /over the limit/ },
  );
  const bomb = writeZip([{ name: 'bomb', data: new Uint8Array(1 << 20), deflate: true }]);
  t.throws(() => readZip(bomb), { message: /zip bomb/ });
  // a header that lies about its size is caught when inflating
  const liar = writeZip([{ name: 'liar', data: new Uint8Array(5000).fill(7), deflate: true, claimedSize: 10 }]);
  t.throws(() => readZip(liar), { instanceOf: KilnError });
});

test('a zip entry whose bytes no longer match its CRC-32 is refused as corrupted', (t) => {
  const zip = writeZip([{ name: 'model.tflite', data: bytes('TFL3 model bytes') }]);
  t.is(text(readZip(zip).get('model.tflite')), 'TFL3 model bytes');
  const damaged = zip.slice();
  damaged[30 + 'model.tflite'.length + 5] ^= 0x20; // one flipped bit inside the stored data
  const e = t.throws(() => readZip(damaged), { instanceOf: KilnError });
  t.is(e?.code, 'E_BAD_ARGUMENT');
  t.regex(e!.message, /"model\.tflite" fails its CRC-32 check/);
  t.regex(e!.hint ?? '', /again/);
});

test('a zip64 archive (sizes, offsets and entry count in zip64 records) unpacks like a plain zip', (t) => {
  const entries = [
    { name: 'model/saved_model.pb', data: bytes('graph') },
    { name: 'model/variables/variables.data-00000-of-00001', data: new Uint8Array(3000).fill(5), deflate: true },
  ];
  const zip64 = writeZip(entries, { zip64: true });
  const files = readZip(zip64);
  t.deepEqual([...files.keys()].sort(), entries.map((e) => e.name).sort());
  t.is(text(files.get('model/saved_model.pb')), 'graph');
  t.deepEqual(files.get(entries[1]!.name), entries[1]!.data);
  // the same limits apply to zip64 sizes
  t.throws(() => readZip(zip64, { ...DEFAULT_LIMITS, maxEntryBytes: 2999 }), { message: /3000 bytes, over the limit/ });
});

test('a file that is not a zip is refused with a reason', (t) => {
  const e = t.throws(() => readZip(bytes('PK\x03\x04 but nothing else')), { instanceOf: KilnError });
  t.regex(e!.message, /malformed/);
});

test('a .tar.gz unpacks in memory; links and escaping names are refused', (t) => {
  const ok = readTarGz(
    writeTarGz([
      { name: 'm/', type: '5' },
      { name: 'm/model.json', data: bytes('{}') },
      { name: 'm/w.bin', data: new Uint8Array(600).fill(3) },
    ]),
  );
  t.deepEqual([...ok.keys()].sort(), ['m/model.json', 'm/w.bin']);
  t.is(ok.get('m/w.bin')!.length, 600);
  t.is(ok.get('m/w.bin')![599], 3);
  t.throws(() => readTarGz(writeTarGz([{ name: '../x', data: bytes('x') }])), { message: /climbs out/ });
  t.throws(() => readTarGz(writeTarGz([{ name: 'l', type: '2', linkName: '/etc/passwd' }])), {
    message: /symbolic link/,
  });
  t.throws(() => readTarGz(writeTarGz([{ name: 'h', type: '1', linkName: 'x' }])), { message: /hard link/ });
  t.throws(
    () =>
      readTarGz(
        writeTarGz([
          { name: 'a', data: new Uint8Array(10) },
          { name: 'b', data: new Uint8Array(10) },
        ]),
        { ...DEFAULT_LIMITS, maxTotalBytes: 15 },
      ),
    { instanceOf: KilnError },
  );
});

/** One pax extended-header record: "<length> <key>=<value>\n", the length counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let n = body.length + 1;
  while (`${n}${body}`.length !== n) n = `${n}${body}`.length;
  return `${n}${body}`;
}

test('tar names longer than 100 bytes: pax extended headers (with other keys) and GNU long names are honoured', (t) => {
  const deep = `model/${'variables/'.repeat(14)}variables.index`;
  t.true(deep.length > 100);
  const pax = paxRecord('mtime', '1700000000.5') + paxRecord('path', deep) + paxRecord('uname', 'someone');
  const gnuName = `model/${'assets/'.repeat(16)}vocab.txt`;
  const files = readTarGz(
    writeTarGz([
      { name: 'PaxHeader/x', type: 'x', data: bytes(pax) },
      { name: 'model/truncated-name', data: bytes('index') },
      { name: '././@LongLink', type: 'L', data: bytes(`${gnuName}\0`) },
      { name: 'model/also-truncated', data: bytes('vocab') },
      { name: 'model/saved_model.pb', data: bytes('graph') },
    ]),
  );
  t.deepEqual([...files.keys()].sort(), [deep, gnuName, 'model/saved_model.pb'].sort());
  t.is(text(files.get(deep)), 'index');
  t.is(text(files.get(gnuName)), 'vocab');
  // a long name is checked like a short one
  const slip = paxRecord(
    'path',
    `${'a/'.repeat(60)}../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../../evil`,
  );
  t.throws(
    () =>
      readTarGz(
        writeTarGz([
          { name: 'PaxHeader/x', type: 'x', data: bytes(slip) },
          { name: 'ok', data: bytes('x') },
        ]),
      ),
    {
      message: /climbs out/,
    },
  );
});

test('a tar header with a bad checksum or a truncated entry is refused as malformed', (t) => {
  const raw = gunzipSync(writeTarGz([{ name: 'model.tflite', data: new Uint8Array(2000).fill(1) }]));
  const badSum = Uint8Array.from(raw);
  badSum[0] ^= 1; // the name changes, the stored checksum does not
  t.throws(() => readTar(badSum), { instanceOf: KilnError, message: /tar archive is malformed.*checksum/ });
  t.throws(() => readTar(raw.subarray(0, 1024)), {
    instanceOf: KilnError,
    message: /tar archive is malformed.*runcated/,
  });
  t.deepEqual([...readTar(new Uint8Array(1024)).keys()], []);
});

test('safeRelativePath normalizes separators and dots', (t) => {
  t.is(safeRelativePath('a\\b/./c//d'), 'a/b/c/d');
  t.is(safeRelativePath('./'), '');
});
