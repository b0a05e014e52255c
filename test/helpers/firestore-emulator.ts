import test from 'ava';
import { initializeApp } from 'firebase-admin/app';
import { getFirestore, type Firestore } from 'firebase-admin/firestore';
import { startEmulator, type RunningEmulator } from '../../emulators/local-stack/gcloud-emulator.js';
import { freePort } from '../../emulators/local-stack/ports.js';

/**
 * A Firestore emulator of the test file's own (gcloud's), started before its tests and stopped after them, with an
 * admin client named `app`. Returns a getter for the client (set once the `before` hook has run).
 */
export function useFirestoreEmulator(projectId: string, app: string): () => Firestore {
  let emu: RunningEmulator | undefined;
  let db: Firestore | undefined;
  test.before(async () => {
    emu = await startEmulator('firestore', await freePort(), projectId, { output: () => undefined });
    process.env['FIRESTORE_EMULATOR_HOST'] = emu.hostPort;
    process.env['METADATA_SERVER_DETECTION'] ??= 'none';
    db = getFirestore(initializeApp({ projectId }, app));
  });
  test.after.always(async () => {
    await db?.terminate();
    await emu?.stop();
  });
  return () => db!;
}
