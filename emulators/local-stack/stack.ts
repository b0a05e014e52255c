import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStorageEmulator, type StorageEmulator } from '../storage/server.js';
import { cloudClients, closeCloudClients } from '../../shared/cloud/clients.js';
import { loadConfig, type PipelineConfig } from '../../shared/pipeline/config.js';
import { log, type LogEntry } from '../../shared/pipeline/log.js';
import { installedBundle } from './bundle-cache.js';
import { startBundleHost } from './bundle-host.js';
import { functionEnv, functionsFrom, type FunctionsFrom } from './function-env.js';
import type { FunctionsHost } from './functions-host.js';
import { checkPrerequisites, startEmulator, type RunningEmulator } from './gcloud-emulator.js';
import { freePort } from './ports.js';
import { startSweeperTimer, sweepPeriodMs } from './sweeper-timer.js';
import { createBuckets, createStageSubscriptions } from './topology.js';

/**
 * The whole pipeline on this machine, bound to 127.0.0.1: the official Pub/Sub and Firestore emulators, Kiln's
 * storage emulator delivering finalize events to ingest, every function served from the installed deploy bundle (one
 * functions-framework process per function, bundle-host.ts; or from the TypeScript source in this process with
 * KILN_FUNCTIONS_FROM=source), topics and push subscriptions. Sets STORAGE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST /
 * FIRESTORE_EMULATOR_HOST and the KILN_* names in this process so the official clients find the emulators.
 */
export interface LocalStack {
  config: PipelineConfig;
  /** Where the functions run from, and for the bundle the installed folder they are served from. */
  functions: { from: FunctionsFrom; bundleDir?: string };
  endpoints: { storage: string; pubsub: string; firestore: string; functions: Record<string, string> };
  /** Fault injection for reliability tests (emulators/local-stack/functions-host.ts). */
  faults: { dropConnections: FunctionsHost['dropConnections'] };
  /** Stops everything this call started, in reverse order. Safe to call twice. */
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  /** Environment to read KILN_* settings from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Storage emulator data directory (default: a fresh temp dir). */
  storageDir?: string;
  /** Where storage emulator logs go (default: dropped). */
  storageLog?: (line: string) => void;
  /** Serve the functions from the installed bundle or the source (default: KILN_FUNCTIONS_FROM of `env`, else bundle). */
  functionsFrom?: FunctionsFrom;
  /** Serve this installed bundle folder instead of the cached build of the current sources (.kiln/bundle). */
  bundleDir?: string;
  /** Progress lines of slow steps (building and installing the bundle when the cache has none). */
  progress?: (line: string) => void;
  /** How often the sweeper function is called (default: KILN_SWEEP_PERIOD_MS of `env`, else 10 s). */
  sweepPeriodMs?: number;
}

/** A line a function instance wrote: its pipeline log entries pass on as they are, anything else is labelled. */
function forwardFunctionLine(name: string, stream: 'stdout' | 'stderr', line: string): void {
  if (stream === 'stdout' && line.startsWith('{')) {
    try {
      const entry = JSON.parse(line) as Partial<LogEntry>;
      if (typeof entry.severity === 'string' && typeof entry.message === 'string') {
        return log.forwarded(entry as LogEntry);
      }
    } catch {
      // not a log entry: labelled below
    }
  }
  if (line.trim() !== '') log.functionOutput(name, stream, line);
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const env = options.env ?? process.env;
  const config = loadConfig(env);
  const from = options.functionsFrom ?? functionsFrom(env);
  checkPrerequisites();
  const stops: (() => Promise<void>)[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    log.stackStopping('stop requested');
    // Reverse start order: functions (drained) and the storage emulator, then the clients they used, then emulators.
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  let bundleHost: Promise<FunctionsHost> | undefined;
  let hostStopRegistered = false;
  try {
    // Built and installed once per change of the sources (cached in .kiln/bundle), while nothing is running yet.
    const bundleDir =
      from === 'source'
        ? undefined
        : (options.bundleDir ?? (await installedBundle({ progress: options.progress })).dir);
    const [pubsubPort, firestorePort, storagePort] = await Promise.all([
      config.ports.pubsub || freePort(),
      config.ports.firestore || freePort(),
      config.ports.storage || freePort(),
    ]);
    const emulators = {
      storage: `http://127.0.0.1:${storagePort}`,
      pubsub: `127.0.0.1:${pubsubPort}`,
      firestore: `127.0.0.1:${firestorePort}`,
    };
    // The function instances start while the emulators do (loading their modules is the slow part): they reach the
    // emulators only when a request comes.
    bundleHost = bundleDir
      ? startBundleHost({
          bundleDir,
          basePort: config.ports.functions,
          env: (name, signature, port) =>
            functionEnv({ name, signature, port, config, emulators, host: { ...process.env, ...env } }),
          onLine: forwardFunctionLine,
        })
      : undefined;
    bundleHost?.catch(() => undefined); // awaited below; a failure meanwhile is not unhandled
    const started = await Promise.allSettled([
      startEmulator('pubsub', pubsubPort, config.projectId),
      startEmulator('firestore', firestorePort, config.projectId),
    ]);
    for (const s of started) if (s.status === 'fulfilled') stops.push(s.value.stop);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const [pubsub, firestore] = started.map((s) => (s as PromiseFulfilledResult<RunningEmulator>).value) as [
      RunningEmulator,
      RunningEmulator,
    ];
    stops.push(closeCloudClients);

    const storage: StorageEmulator = await startStorageEmulator({
      port: storagePort,
      dataDir: options.storageDir ?? (await mkdtemp(join(tmpdir(), 'kiln-stack-storage-'))),
      logSink: options.storageLog ?? (() => undefined),
      delivery: { initialBackoffMs: 200, maxBackoffMs: 5000 },
    });
    stops.push(() => storage.close());

    // Local only: no GCE metadata server to probe for credentials.
    process.env['METADATA_SERVER_DETECTION'] ??= 'none';
    process.env['PUBSUB_EMULATOR_HOST'] = pubsub.hostPort;
    process.env['FIRESTORE_EMULATOR_HOST'] = firestore.hostPort;
    process.env['STORAGE_EMULATOR_HOST'] = storage.url;
    process.env['KILN_PROJECT_ID'] = config.projectId;
    process.env['GOOGLE_CLOUD_PROJECT'] = config.projectId;
    process.env['KILN_UPLOADS_BUCKET'] = config.buckets.uploads;
    process.env['KILN_ARTIFACTS_BUCKET'] = config.buckets.artifacts;

    const actual = { storage: storage.url, pubsub: pubsub.hostPort, firestore: firestore.hostPort };
    if (JSON.stringify(actual) !== JSON.stringify(emulators)) {
      throw new Error(`emulators listen at ${JSON.stringify(actual)}, not ${JSON.stringify(emulators)}`);
    }
    const host: FunctionsHost = bundleHost
      ? await bundleHost
      : await (await import('./functions-host.js')).startFunctionsHost(config.ports.functions);
    stops.push(() => host.close());
    hostStopRegistered = true;

    const clients = cloudClients(config);
    await createBuckets(clients.storage, config);
    await createStageSubscriptions(clients.pubsub, config, host.urls);
    storage.addSubscriber({
      bucket: config.buckets.uploads,
      eventType: 'google.cloud.storage.object.v1.finalized',
      url: `${host.urls.ingest}/`,
    });
    // Cloud Scheduler's part: call the sweeper function on a timer (terraform: every sweepPeriodS).
    const sweeper = startSweeperTimer(host.urls.sweeper, options.sweepPeriodMs ?? sweepPeriodMs(env));
    stops.unshift(async () => sweeper.stop());
    const endpoints = {
      storage: storage.url,
      pubsub: pubsub.hostPort,
      firestore: firestore.hostPort,
      functions: host.urls,
    };
    log.stackReady({ storage: storage.url, pubsub: pubsub.hostPort, firestore: firestore.hostPort, ...host.urls });
    return {
      config,
      functions: { from, ...(bundleDir ? { bundleDir } : {}) },
      endpoints,
      faults: { dropConnections: (name) => host.dropConnections(name) },
      stop,
    };
  } catch (e) {
    if (bundleHost && !hostStopRegistered) await bundleHost.then((h) => h.close(0)).catch(() => undefined);
    await stop();
    throw e;
  }
}
