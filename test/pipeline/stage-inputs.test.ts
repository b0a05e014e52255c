import test from 'ava';
import { dataFilesFor } from '../../shared/pipeline/stage-inputs.js';

const BOTH = ['calibration/a.png', 'calibration/b.png', 'validation/cat/c.png', 'validation/labels.txt'];

test('each stage downloads only the data folders its core reads', (t) => {
  t.deepEqual(dataFilesFor('quantize', BOTH), ['calibration/a.png', 'calibration/b.png']);
  t.deepEqual(dataFilesFor('compile', BOTH), []);
  t.deepEqual(dataFilesFor('verify', BOTH), ['validation/cat/c.png', 'validation/labels.txt']);
  // Without validation/, verify scores the calibration files the quantizer held back.
  t.deepEqual(dataFilesFor('verify', BOTH.slice(0, 2)), ['calibration/a.png', 'calibration/b.png']);
  // A stage the table does not know reads everything.
  t.deepEqual(dataFilesFor('some-new-stage', BOTH), BOTH);
});
