import { startLocalStack } from '../../../emulators/local-stack/stack.js';
import { cloudClients } from '../../../shared/cloud/clients.js';
import { buildIdOf } from '../../../shared/pipeline/ids.js';
import { setLogSink } from '../../../shared/pipeline/log.js';
import { collectEvents, readBuild, sleep, terminalOf } from '../../e2e/stack-helpers.js';
import { loadModel } from './models.js';

/**
 * The load test: one local stack, N models of mixed sizes uploaded at the same moment, every build awaited. Build
 * time is from the start of the upload to the build's completion event, as a user of `kiln upload --wait` sees it.
 * Peak memory is the RSS of this Node process, which hosts the functions, the storage emulator and the clients
 * (the Java Pub/Sub and Firestore emulators are separate processes and not counted).
 */
export interface LoadFigures {
  n: number;
  succeeded: number;
  failed: { name: string; reason: string }[];
  lost: string[];
  duplicateTerminalEvents: number;
  uploadBytes: { min: number; max: number };
  buildMs: { median: number; max: number; all: number[] };
  wallMs: number;
  peakRssMiB: number;
}

export const LOAD_CONFIG = {
  quantize: { samples: 8, debugSamples: 1 },
  verify: { maxSamples: 4, debugSamples: 1 },
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function runLoad(n: number, opts: { timeoutMs?: number; projectId?: string } = {}): Promise<LoadFigures> {
  const previous = setLogSink(() => undefined);
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const stack = await startLocalStack({
    env: { ...process.env, KILN_PROJECT_ID: opts.projectId ?? 'kiln-reliability-load' },
  });
  const events = await collectEvents(stack.config);
  try {
    const bucket = cloudClients(stack.config).storage.bucket(stack.config.buckets.uploads);
    const models = Array.from({ length: n }, (_, i) => ({ name: `load-${i}`, bytes: loadModel(i) }));
    const t0 = Date.now();
    const builds = await Promise.all(
      models.map(async (m) => {
        const start = Date.now();
        await bucket.file(`${m.name}.kiln.json`).save(JSON.stringify(LOAD_CONFIG), { resumable: false });
        const file = bucket.file(`${m.name}.tflite`);
        await file.save(Buffer.from(m.bytes), { resumable: false });
        const [meta] = await file.getMetadata();
        const buildId = buildIdOf(stack.config.buckets.uploads, `${m.name}.tflite`, String(meta.generation));
        try {
          const end = await events.waitFor(terminalOf(buildId), opts.timeoutMs ?? 900_000);
          return { ...m, buildId, end, ms: Date.now() - start };
        } catch {
          return { ...m, buildId, end: undefined, ms: Date.now() - start };
        }
      }),
    );
    const wallMs = Date.now() - t0;
    await sleep(1500);
    const failed: LoadFigures['failed'] = [];
    const lost: string[] = [];
    let succeeded = 0;
    let duplicateTerminalEvents = 0;
    for (const b of builds) {
      duplicateTerminalEvents += Math.max(0, events.events.filter(terminalOf(b.buildId)).length - 1);
      const record = await readBuild(stack.config, b.name, b.buildId);
      if (!b.end || !record) lost.push(b.name);
      else if (b.end.type === 'dev.kiln.build.v1.completed' && record.status === 'succeeded') succeeded += 1;
      else failed.push({ name: b.name, reason: `${record.error?.stage}: ${record.error?.message}` });
    }
    const all = builds.map((b) => b.ms);
    const sizes = models.map((m) => m.bytes.length);
    peak = Math.max(peak, process.memoryUsage().rss);
    return {
      n,
      succeeded,
      failed,
      lost,
      duplicateTerminalEvents,
      uploadBytes: { min: Math.min(...sizes), max: Math.max(...sizes) },
      buildMs: { median: median(all), max: Math.max(...all), all },
      wallMs,
      peakRssMiB: Math.round(peak / 1024 / 1024),
    };
  } finally {
    clearInterval(sampler);
    await events.close();
    await stack.stop();
    setLogSink(previous);
  }
}
