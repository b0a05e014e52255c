import test, { type ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import { DEFAULT_DATA, runConformance } from '../../../scripts/onnx-conformance.js';

/** Whether ONNX's backend test data (Debian's libonnx-testdata) is installed. */
export const hasNodeData = existsSync(`${DEFAULT_DATA}/node`);

/** A test that needs the node test data: skipped when it is absent. */
export const withNodeData = hasNodeData ? test : test.skip;

/** Runs the node tests `names` match (a list of names, or a pattern matching `count` tests): every one must match. */
export async function nodeTestsMatch(
  t: ExecutionContext,
  names: readonly string[] | RegExp,
  count?: number,
): Promise<void> {
  const only = Array.isArray(names) ? new RegExp(`^(${names.join('|')})$`) : (names as RegExp);
  const results = await runConformance(DEFAULT_DATA, ['node'], only);
  t.is(results.length, Array.isArray(names) ? names.length : (count ?? results.length));
  t.deepEqual(
    results.filter((r) => r.status !== 'matched').map((r) => `${r.name}: ${r.status} ${r.reason ?? ''}`),
    [],
  );
}
