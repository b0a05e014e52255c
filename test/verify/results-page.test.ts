import { Storage } from '@google-cloud/storage';
import test from 'ava';
import { initializeApp } from 'firebase-admin/app';
import { getFirestore, type Firestore } from 'firebase-admin/firestore';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { buildDoc } from '../../shared/cloud/firestore-builds.js';
import { toStoredBuild } from '../../shared/cloud/firestore-times.js';
import { startEmulator, type RunningEmulator } from '../../emulators/local-stack/gcloud-emulator.js';
import { freePort } from '../../emulators/local-stack/ports.js';
import { startStorageEmulator, type StorageEmulator } from '../../emulators/storage/server.js';
import { newBuild, type BuildRecord } from '../../shared/pipeline/build-state.js';
import { stagesOf } from '../../shared/pipeline/stages.js';
import { buildVerdictOf, outcomeLine } from '../../shared/pipeline/build-result.js';
import { parseBuildConfig } from '../../shared/pipeline/build-config.js';
import { createResultsServer, type ResultsServer } from '../../shared/results/server.js';
import { renderReportHtml } from '../../shared/toolchain/verify/report/html.js';
import { verifyModel } from '../../shared/toolchain/verify/verify-model.js';
import { EVIL, classifierPair, samplesOf } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const gcloud = spawnSync('gcloud', ['--version'], { encoding: 'utf8' });
const ready = existsSync(CHROMIUM) && gcloud.status === 0 && gcloud.stdout.includes('cloud-firestore-emulator');
const maybe = ready ? test.serial : test.skip;

const PROJECT = 'kiln-results-test';
const BUCKET = 'kiln-results-artifacts';
const SHOTS = join(process.cwd(), 'test-results');

let firestoreEmu: RunningEmulator | undefined;
let storageEmu: StorageEmulator | undefined;
let server: ResultsServer | undefined;
let browser: BrowserContext | undefined;
let db: Firestore;
let storage: Storage;

test.before(async () => {
  if (!ready) return;
  const fsPort = await freePort();
  firestoreEmu = await startEmulator('firestore', fsPort, PROJECT, { output: () => undefined });
  process.env['FIRESTORE_EMULATOR_HOST'] = firestoreEmu.hostPort;
  storageEmu = await startStorageEmulator({
    port: await freePort(),
    dataDir: await mkdtemp(join(tmpdir(), 'kiln-results-storage-')),
    logSink: () => undefined,
  });
  process.env['STORAGE_EMULATOR_HOST'] = storageEmu.url;
  db = getFirestore(initializeApp({ projectId: PROJECT }, 'results-test'));
  db.settings({ ignoreUndefinedProperties: true });
  storage = new Storage({ projectId: PROJECT });
  await storage.createBucket(BUCKET);
  server = await createResultsServer({ firestore: db, storage, port: 0, pollMs: 500 });
  const userDataDir = await mkdtemp(join(tmpdir(), 'kiln-chromium-'));
  // A fresh profile: playwright passes it to Chromium as --user-data-dir.
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

test.after.always(async () => {
  await browser?.close();
  await server?.close();
  await db?.terminate().catch(() => undefined);
  await storageEmu?.close();
  await firestoreEmu?.stop();
});

function record(modelId: string, buildId: string, status: BuildRecord['status']): BuildRecord {
  const r = newBuild(
    buildId,
    modelId,
    {
      bucket: 'kiln-uploads',
      object: `${modelId}.tflite`,
      generation: '1',
      kind: 'single-file',
      uri: `gs://kiln-uploads/${modelId}.tflite`,
    },
    parseBuildConfig({}, 8),
    new Date(Date.UTC(2025, 0, 1, 12, buildId.length)).toISOString(),
  );
  r.status = status;
  if (status === 'succeeded') for (const { name } of stagesOf('model')) r.stages[name].status = 'succeeded';
  return r;
}

maybe('the results page lists a finished build with live status and opens its report', async (t) => {
  const { float, int8 } = await classifierPair();
  const report = await verifyModel({
    float: { name: 'model.float.tflite', bytes: float },
    int8: { name: 'model.int8.tflite', bytes: int8 },
    validation: { samples: samplesOf(3, 9), labels: null, source: 'synthetic', warnings: [] },
    debugSamples: 2,
  });
  const modelId = 'tiny-classifier';
  const done = record(modelId, 'b0000000000000000000finished', 'succeeded');
  for (const [name, body] of [
    ['report.html', renderReportHtml(report)],
    ['report.json', JSON.stringify(report)],
  ] as const) {
    const object = `${modelId}/${done.buildId}/${name}`;
    await storage.bucket(BUCKET).file(object).save(body, { resumable: false });
    done.artifacts[name] = `gs://${BUCKET}/${object}`;
  }
  done.summary['verify'] = {
    verdict: report.verdict.level,
    ready: report.verdict.ready,
    headline: report.verdict.headline,
    line: report.verdict.line,
    task: report.task.type,
  };
  done.finishedAt = done.updatedAt;
  await buildDoc(db, modelId, done.buildId).set(toStoredBuild(done));
  const running = record('other-model', 'b000000000000000running', 'running');
  await buildDoc(db, 'other-model', running.buildId).set(toStoredBuild(running));

  const page = await browser!.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(`${server!.url}/`);
  const row = page.locator(`tr[data-build="${done.buildId}"]`);
  await row.waitFor();
  t.is(await row.locator('.status').textContent(), 'succeeded');
  // the verdict line, as the CLI prints it; status and verdict together on hover
  t.is(await row.locator('.verdict').textContent(), report.verdict.line);
  t.is(await row.locator('.verdict').getAttribute('title'), outcomeLine('succeeded', buildVerdictOf(done.summary)));
  const other = page.locator(`tr[data-build="${running.buildId}"] .status`);
  t.is(await other.textContent(), 'running');

  // live status: the running build finishes while the page is open
  await buildDoc(db, 'other-model', running.buildId).update({ status: 'failed', updatedAt: new Date().toISOString() });
  await page.waitForFunction(
    (id) => document.querySelector(`tr[data-build="${id}"] .status`)?.textContent === 'failed',
    running.buildId,
    { timeout: 20_000 },
  );
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, 'results-page.png'), fullPage: true });

  await row.locator('a.report-link').click();
  await page.locator('#verdict').waitFor();
  t.is((await page.locator('#verdict').textContent())?.trim(), report.verdict.headline);
  t.true(page.url().endsWith(`/artifacts/${modelId}/${done.buildId}/report.html`));
  // the tensor named with a <script> tag is text in the op table, and no script ran
  t.true(await page.locator('#ops code', { hasText: EVIL }).first().isVisible());
  t.is(await page.locator('script').count(), 0);
  t.deepEqual(dialogs, []);
  t.is(await page.locator('svg#graph g.op').count(), report.operations.length);
  await page.screenshot({ path: join(SHOTS, 'report.png'), fullPage: true });

  const build = await page.goto(`${server!.url}/builds/${modelId}/${done.buildId}`);
  t.is(build?.status(), 200);
  t.deepEqual(await page.locator('#artifacts a').allTextContents(), ['report.html', 'report.json']);
  t.is(await page.locator('#verdict-line').textContent(), report.verdict.line);
  t.regex((await page.locator('#outcome').textContent()) ?? '', /^Build succeeded[ ;(]/);
  const missing = await page.goto(`${server!.url}/artifacts/${modelId}/${done.buildId}/secret.tflite`);
  t.is(missing?.status(), 404);
  await page.close();
});
