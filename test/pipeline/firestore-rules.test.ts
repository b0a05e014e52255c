import test from 'ava';
import { readFile } from 'node:fs/promises';
import { startEmulator, type RunningEmulator } from '../../emulators/local-stack/gcloud-emulator.js';
import { freePort } from '../../emulators/local-stack/ports.js';

/**
 * firestore.rules against the official Firestore emulator, through its REST API as a browser client would call it:
 * signed-in users read, nobody but the service (Admin SDK, which bypasses rules) writes.
 */
const PROJECT = 'kiln-rules-test';
let emu: RunningEmulator;

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
/** The emulator accepts unsigned ID tokens. */
const userToken =
  b64({ alg: 'none', typ: 'JWT' }) +
  '.' +
  b64({
    sub: 'user-1',
    user_id: 'user-1',
    aud: PROJECT,
    iss: `https://securetoken.google.com/${PROJECT}`,
    iat: 1,
    exp: 9999999999,
    auth_time: 1,
    firebase: { sign_in_provider: 'password' },
  }) +
  '.';

const docUrl = (path: string) => `http://${emu.hostPort}/v1/projects/${PROJECT}/databases/(default)/documents/${path}`;
const call = (method: string, path: string, token?: string, body?: object) =>
  fetch(docUrl(path), {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

test.before(async () => {
  emu = await startEmulator('firestore', await freePort(), PROJECT, { output: () => undefined });
  const rules = await readFile(new URL('../../firestore.rules', import.meta.url), 'utf8');
  const res = await fetch(`http://${emu.hostPort}/emulator/v1/projects/${PROJECT}:securityRules`, {
    method: 'PUT',
    body: JSON.stringify({ rules: { files: [{ name: 'firestore.rules', content: rules }] } }),
  });
  if (!res.ok) throw new Error(`loading rules failed: ${res.status} ${await res.text()}`);
  // the service (admin, bypasses rules) writes a model and a build
  const owner = 'owner';
  const fields = { fields: { name: { stringValue: 'm' }, createdAt: { timestampValue: '2026-01-01T00:00:00Z' } } };
  for (const p of ['models/m', 'models/m/builds/b1', 'models/n/builds/b2']) {
    const w = await call('PATCH', p, owner, fields);
    if (!w.ok) throw new Error(`admin write failed: ${w.status}`);
  }
});

test.after.always(async () => {
  await emu?.stop();
});

test('signed-in users read models and builds', async (t) => {
  t.is((await call('GET', 'models/m', userToken)).status, 200);
  t.is((await call('GET', 'models/m/builds/b1', userToken)).status, 200);
});

test('anonymous requests read nothing', async (t) => {
  t.is((await call('GET', 'models/m')).status, 403);
  t.is((await call('GET', 'models/m/builds/b1')).status, 403);
});

/** The results page's query (shared/cloud/firestore-queries.ts recentBuilds) as a browser client sends it. */
const recentBuilds = (token: string | undefined, limit?: number) =>
  fetch(`http://${emu.hostPort}/v1/projects/${PROJECT}/databases/(default)/documents:runQuery`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({
      structuredQuery: {
        from: [{ collectionId: 'builds', allDescendants: true }],
        orderBy: [{ field: { fieldPath: 'createdAt' }, direction: 'DESCENDING' }],
        ...(limit === undefined ? {} : { limit }),
      },
    }),
  });

test('signed-in users list the builds of every model (collection group), with a limit', async (t) => {
  const res = await recentBuilds(userToken, 100);
  t.is(res.status, 200);
  const rows = (await res.json()) as { document?: { name: string } }[];
  t.deepEqual(rows.map((r) => r.document?.name.split('/documents/')[1]).sort(), [
    'models/m/builds/b1',
    'models/n/builds/b2',
  ]);
});

test('the collection-group read is denied anonymous, and without a limit or over 100', async (t) => {
  t.is((await recentBuilds(undefined, 100)).status, 403);
  t.is((await recentBuilds(userToken)).status, 403);
  t.is((await recentBuilds(userToken, 101)).status, 403);
});

test('clients never write, even signed in', async (t) => {
  const body = { fields: { status: { stringValue: 'succeeded' } } };
  t.is((await call('PATCH', 'models/m/builds/b1', userToken, body)).status, 403);
  t.is((await call('PATCH', 'models/evil', userToken, body)).status, 403);
  t.is((await call('DELETE', 'models/m', userToken)).status, 403);
  t.is((await call('GET', 'other/x', userToken)).status, 403);
  // the collection-group match grants listing only: a build elsewhere is neither readable nor writable
  t.is((await call('PATCH', 'other/x/builds/b9', userToken, body)).status, 403);
  t.is((await call('GET', 'other/x/builds/b9', userToken)).status, 403);
});
