import test from 'ava';
import { modelEntry, touchesModel, type ModelEntry } from '../../shared/cloud/model-entry.js';
import { parseBuildConfig } from '../../shared/pipeline/build-config.js';
import { beginUnit, completeBuild, failUnit, newBuild, type BuildRecord } from '../../shared/pipeline/build-state.js';
import { SINGLE_FILE_UPLOAD, T } from '../helpers/builds.js';

const build = (buildId: string, createdAt: string): BuildRecord =>
  newBuild(buildId, 'm', SINGLE_FILE_UPLOAD, parseBuildConfig({}, 8), createdAt);
const succeed = (r: BuildRecord, at: string) => {
  r.summary = { compile: { opsOnEdgeTpu: r.buildId.length } };
  completeBuild(r, {}, at);
  return r;
};
const fail = (r: BuildRecord, at: string) => {
  const run = beginUnit(r, 'convert', 'main', at, 60_000, 'run');
  if (run.action !== 'run') throw new Error('unit did not start');
  failUnit(r, 'convert', 'main', { code: 'E_X', message: 'bad', retryable: false }, 3, at, 'run');
  return r;
};

test('a unit starting inside a running build does not touch the model document; a status change does', (t) => {
  const before = build('a', T(0));
  const started = structuredClone(before);
  beginUnit(started, 'convert', 'main', T(1), 60_000, 'run');
  t.false(touchesModel(before, started));
  t.true(touchesModel(started, fail(structuredClone(started), T(2))));
  t.true(touchesModel(started, succeed(structuredClone(started), T(2))));
});

test('latest is the most recently created build: a late status change of an older build does not move it back', (t) => {
  const older = build('older', T(0));
  const newer = build('newer', T(5));
  let entry: ModelEntry = modelEntry(older, undefined);
  entry = modelEntry(newer, entry);
  t.like(entry, { latestBuildId: 'newer', latestStatus: 'running', latestCreatedAt: T(5) });
  // the older build fails after the newer one started: latest stays the newer build
  entry = modelEntry(fail(older, T(9)), entry);
  t.like(entry, { latestBuildId: 'newer', latestStatus: 'running', updatedAt: T(9) });
  t.is(entry.best, undefined);
  entry = modelEntry(succeed(newer, T(12)), entry);
  t.like(entry, { latestBuildId: 'newer', latestStatus: 'succeeded' });
  t.like(entry.best, { buildId: 'newer', finishedAt: T(12) });
});

test('best is the last succeeded build: a newer failure keeps it, an older success finishing earlier does not replace it', (t) => {
  const a = build('a', T(0));
  const b = build('b', T(1));
  const c = build('c', T(2));
  let entry = modelEntry(succeed(b, T(10)), modelEntry(b, modelEntry(a, undefined)));
  t.like(entry, { latestBuildId: 'b', latestStatus: 'succeeded' });
  entry = modelEntry(fail(c, T(11)), modelEntry(c, entry));
  t.like(entry, { latestBuildId: 'c', latestStatus: 'failed' });
  t.like(entry.best, { buildId: 'b', summary: { compile: { opsOnEdgeTpu: 1 } } });
  // a's success arrives out of order with an earlier finish time than b's
  entry = modelEntry(succeed(a, T(8)), entry);
  t.like(entry, { latestBuildId: 'c' });
  t.like(entry.best, { buildId: 'b' });
});

test('a model document written before latestCreatedAt existed is ordered by its update time', (t) => {
  const legacy = { name: 'm', latestBuildId: 'old', latestStatus: 'succeeded', updatedAt: T(20) } as ModelEntry;
  t.like(modelEntry(build('earlier', T(10)), legacy), { latestBuildId: 'old' });
  t.like(modelEntry(build('later', T(30)), legacy), { latestBuildId: 'later', latestCreatedAt: T(30) });
});
