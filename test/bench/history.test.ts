import test from 'ava';
import { changes, formatChange, latestFigures } from '../../bench/history.js';

test('latestFigures keeps each figure from the last line that has it and skips damaged lines', (t) => {
  const text = [
    JSON.stringify({ figures: { 'interpreter/a': 0.5, 'interpreter/b': 0.7 } }),
    '{not json',
    JSON.stringify({ figures: { 'interpreter/a': 0.9 } }),
    '',
  ].join('\n');
  t.deepEqual(latestFigures(text), { 'interpreter/a': 0.9, 'interpreter/b': 0.7 });
  t.deepEqual(latestFigures(''), {});
});

test('changes flags moves beyond the threshold, by which way is better, regressions first', (t) => {
  const previous = { speed: 1.0, overhead: 2.0, steady: 1.0, fresh: Number.NaN };
  const found = changes(
    previous,
    {
      speed: { ratio: 0.8, better: 'higher', of: 'x' },
      overhead: { ratio: 1.5, better: 'lower', of: 'y' },
      steady: { ratio: 1.1, better: 'higher', of: 'z' },
      fresh: { ratio: 3, better: 'higher', of: 'w' },
      brandNew: { ratio: 3, better: 'higher', of: 'v' },
    },
    0.15,
  );
  t.deepEqual(
    found.map((c) => [c.figure, c.kind]),
    [
      ['speed', 'regression'],
      ['overhead', 'improvement'],
    ],
  );
  t.is(formatChange(found[0]!), 'REGRESSION: speed 1 → 0.8 (-20.0%)');
});
