import { gzipSync } from 'node:zlib';
import { writeTarGz, writeZip } from '../../loaders/helpers/archives.js';
import type { BadInput } from './types.js';
import { goodTflite } from './tflite-models.js';
import { garbage, oneFile } from './write.js';

const model = () => goodTflite();
const slip = (name: string) => `../../../../kiln-slip-${name}.tflite`;

/** Hostile or broken archives (.zip, .tar.gz, .keras). */
export const ARCHIVE_CASES: BadInput[] = [
  {
    name: 'zip-slip',
    what: 'a zip entry named ../../../../kiln-slip-zip.tflite',
    write: oneFile('m.zip', () => writeZip([{ name: slip('zip'), data: model() }])),
    expect: /outside|\.\.|unsafe|path/i,
  },
  {
    name: 'zip-absolute-path',
    what: 'a zip entry named /tmp/kiln-abs.tflite',
    write: oneFile('m.zip', () => writeZip([{ name: '/tmp/kiln-abs.tflite', data: model() }])),
    expect: /absolute|unsafe|path/i,
  },
  {
    name: 'zip-bomb-ratio',
    what: 'a zip entry of 24 MiB of zeros deflated to ~24 KiB (ratio > 1000)',
    write: oneFile('m.zip', () =>
      writeZip([
        { name: 'model.tflite', data: model() },
        { name: 'pad.bin', data: new Uint8Array(24 << 20), deflate: true },
      ]),
    ),
    expect: /ratio|bomb|compress/i,
  },
  {
    name: 'zip-bomb-claimed-size',
    what: 'a zip entry claiming 4 GiB uncompressed',
    write: oneFile('m.zip', () =>
      writeZip([{ name: 'model.tflite', data: model(), deflate: true, claimedSize: 0xffff_fff0 }]),
    ),
    expect: /size|limit|large|bomb|ratio/i,
  },
  {
    name: 'zip-symlink',
    what: 'a zip entry that is a symlink to /etc/passwd',
    write: oneFile('m.zip', () =>
      writeZip([{ name: 'model.tflite', data: new TextEncoder().encode('/etc/passwd'), mode: 0o120777 }]),
    ),
    expect: /link/i,
  },
  {
    name: 'zip-empty',
    what: 'a zip with no entries',
    write: oneFile('m.zip', () => writeZip([])),
    expect: /empty|no model|no files|nothing/i,
  },
  {
    name: 'zip-truncated',
    what: 'a zip cut off after 100 bytes',
    write: oneFile('m.zip', () => writeZip([{ name: 'model.tflite', data: model() }]).slice(0, 100)),
    expect: /zip|truncated|corrupt|end of central/i,
  },
  {
    name: 'zip-no-model',
    what: 'a zip holding only README.txt',
    write: oneFile('m.zip', () => writeZip([{ name: 'README.txt', data: new TextEncoder().encode('hello') }])),
    expect: /model|no .* found|not a model/i,
  },
  {
    name: 'tar-symlink',
    what: 'a tar.gz whose model.tflite is a symlink to /etc/passwd',
    write: oneFile('m.tar.gz', () => writeTarGz([{ name: 'model.tflite', type: '2', linkName: '/etc/passwd' }])),
    expect: /link/i,
  },
  {
    name: 'tar-hardlink',
    what: 'a tar.gz with a hard link to ../../etc/shadow',
    write: oneFile('m.tar.gz', () =>
      writeTarGz([
        { name: 'model.tflite', data: model() },
        { name: 'copy.tflite', type: '1', linkName: '../../etc/shadow' },
      ]),
    ),
    expect: /link/i,
  },
  {
    name: 'tar-slip',
    what: 'a tar.gz entry named ../../../../kiln-slip-tar.tflite',
    write: oneFile('m.tar.gz', () => writeTarGz([{ name: slip('tar'), data: model() }])),
    expect: /outside|\.\.|unsafe|path/i,
  },
  {
    name: 'gzip-garbage',
    what: 'a .tar.gz that is a gzip stream of random bytes',
    write: oneFile('m.tar.gz', () => new Uint8Array(gzipSync(garbage(10_000, 3)))),
    expect: /tar|header|corrupt|checksum|model/i,
  },
  {
    name: 'gzip-truncated',
    what: 'a .tgz cut in the middle of the gzip stream',
    write: oneFile('m.tgz', () => writeTarGz([{ name: 'model.tflite', data: model() }]).slice(0, 60)),
    expect: /gzip|truncated|corrupt|unexpected end/i,
  },
  {
    name: 'keras-not-keras',
    what: 'a .keras zip holding random bytes and no config.json',
    write: oneFile('m.keras', () => writeZip([{ name: 'weights.bin', data: garbage(512, 4) }])),
    expect: /config|keras|model/i,
  },
];
