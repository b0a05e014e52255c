import test from 'ava';
import { runLoad } from './load/run-load.js';

/** N concurrent uploads of mixed sizes → N completed builds, none lost (N=5 here; `npm run reliability:load`: 20). */
const N = Number(process.env['KILN_LOAD_N'] ?? 5);

test(`load: ${N} concurrent uploads of mixed sizes all complete, none lost, one completion event each`, async (t) => {
  const f = await runLoad(N, { timeoutMs: 240_000 });
  t.log(
    `N=${f.n}: build time median ${f.buildMs.median} ms, max ${f.buildMs.max} ms, peak RSS ${f.peakRssMiB} MiB, uploads ${f.uploadBytes.min}..${f.uploadBytes.max} bytes`,
  );
  t.deepEqual(f.lost, []);
  t.deepEqual(f.failed, []);
  t.is(f.succeeded, N);
  t.is(f.duplicateTerminalEvents, 0);
  t.true(f.uploadBytes.max > 100 * f.uploadBytes.min, 'the sizes are mixed');
});
