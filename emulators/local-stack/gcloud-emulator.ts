import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { KilnError } from '../../shared/common/errors.js';
import { log } from '../../shared/pipeline/log.js';

/**
 * The official emulators from the Google Cloud CLI, as child processes in their own process group (gcloud starts a
 * Java process; stopping the group stops both).
 */
export const EMULATORS = {
  pubsub: {
    args: (hostPort: string, projectId: string) => [
      'beta',
      'emulators',
      'pubsub',
      'start',
      `--host-port=${hostPort}`,
      `--project=${projectId}`,
    ],
    component: 'pubsub-emulator',
    envVar: 'PUBSUB_EMULATOR_HOST',
  },
  firestore: {
    args: (hostPort: string) => ['emulators', 'firestore', 'start', `--host-port=${hostPort}`],
    component: 'cloud-firestore-emulator',
    envVar: 'FIRESTORE_EMULATOR_HOST',
  },
} as const;
export type EmulatorName = keyof typeof EMULATORS;

const INSTALL_HINT =
  'Install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install) and the emulators: ' +
  '`gcloud components install beta pubsub-emulator cloud-firestore-emulator` (or on Debian/Ubuntu: ' +
  '`apt-get install google-cloud-cli-pubsub-emulator google-cloud-cli-firestore-emulator`), plus Java 17+';

/** Fails with install instructions when gcloud, Java or an emulator component is missing. */
export function checkPrerequisites(): void {
  const gcloud = spawnSync('gcloud', ['--version'], { encoding: 'utf8' });
  if (gcloud.error || gcloud.status !== 0) {
    throw new KilnError('E_FILE_NOT_FOUND', 'the Google Cloud CLI (gcloud) is not installed', { hint: INSTALL_HINT });
  }
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error || java.status !== 0) {
    throw new KilnError('E_FILE_NOT_FOUND', 'Java is not installed (the emulators need Java 17+)', {
      hint: INSTALL_HINT,
    });
  }
  for (const e of Object.values(EMULATORS)) {
    if (!gcloud.stdout.includes(e.component)) {
      throw new KilnError('E_FILE_NOT_FOUND', `the gcloud component ${e.component} is not installed`, {
        hint: INSTALL_HINT,
      });
    }
  }
}

export interface RunningEmulator {
  name: EmulatorName;
  hostPort: string;
  stop(): Promise<void>;
}

async function ready(url: string, child: ChildProcess, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`the ${name} emulator exited with code ${child.exitCode} while starting`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the ${name} emulator did not become ready within ${timeoutMs} ms`);
}

export async function startEmulator(
  name: EmulatorName,
  port: number,
  projectId: string,
  opts: { readyTimeoutMs?: number; output?: (line: string) => void } = {},
): Promise<RunningEmulator> {
  const hostPort = `127.0.0.1:${port}`;
  const child = spawn('gcloud', EMULATORS[name].args(hostPort, projectId), {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: '1' },
  });
  const output = opts.output ?? ((line: string) => log.emulatorOutput(name, line));
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim()) output(line.trim());
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const killed = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 5000)),
    ]);
    if (!killed) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
    }
  };
  try {
    await ready(`http://${hostPort}/`, child, name, opts.readyTimeoutMs ?? 90_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { name, hostPort, stop };
}
