import { createServer, connect, type Socket } from 'node:net';
import { Storage } from '@google-cloud/storage';
import test from 'ava';
import { startTestEmulator } from '../../emulators/storage/testing.js';
import { StorageObjects } from '../../shared/cloud/storage-objects.js';
import { STORAGE_RETRY } from '../../shared/cloud/storage-retry.js';

/** A TCP proxy to the emulator that resets the first `resets` connections once a request arrives on them. */
async function resettingProxy(target: string, resets: number): Promise<{ url: string; close: () => Promise<void> }> {
  const { hostname, port } = new URL(target);
  let left = resets;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    if (left > 0) {
      left--;
      client.once('data', () => client.resetAndDestroy());
      return;
    }
    const upstream = connect(Number(port), hostname);
    sockets.add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

test('an artifact write whose connection is reset is resent by the client and lands once', async (t) => {
  const emu = await startTestEmulator();
  t.teardown(() => emu.close());
  await new Storage({ apiEndpoint: emu.url, projectId: 'kiln-local' }).createBucket('kiln-artifacts');

  const proxy = await resettingProxy(emu.url, 1);
  t.teardown(() => proxy.close());
  const objects = new StorageObjects(
    new Storage({
      apiEndpoint: proxy.url,
      projectId: 'kiln-local',
      retryOptions: { ...STORAGE_RETRY, retryDelayMultiplier: 1 },
    }),
    'kiln-artifacts',
  );
  const uri = await objects.writeArtifact('m1', 'b1', 'model.tflite', new Uint8Array([1, 2, 3]));
  t.regex(uri, /^gs:\/\/kiln-artifacts\/.*model\.tflite$/);
  const [, object] = /^gs:\/\/kiln-artifacts\/(.*)$/.exec(uri)!;
  t.deepEqual([...(await objects.read('kiln-artifacts', object!))], [1, 2, 3]);
  const listed = await objects.list('kiln-artifacts', '');
  t.is(listed.length, 1);
  t.is(listed[0]!.generation !== undefined, true);

  // Without the client's retries the same reset reaches the caller: the test above exercised the resend.
  const noRetry = await resettingProxy(emu.url, 1);
  t.teardown(() => noRetry.close());
  const fragile = new StorageObjects(
    new Storage({ apiEndpoint: noRetry.url, projectId: 'kiln-local', retryOptions: { autoRetry: false } }),
    'kiln-artifacts',
  );
  await t.throwsAsync(() => fragile.writeArtifact('m1', 'b2', 'model.tflite', new Uint8Array([4])));
});
