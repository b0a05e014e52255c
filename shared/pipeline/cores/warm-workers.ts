import type { Worker } from 'node:worker_threads';

/**
 * Unit workers kept warm between units in one process (a function instance runs its stage's units one after another):
 * a worker that returned a result — a success or an error the core threw — has finished its unit cleanly and may run
 * the next unit of the same kind, which then skips the thread's start-up and module loading. A worker that was
 * terminated (deadline), crashed or exited is never reused, so what isolation is for stays: a crash or an out-of-memory
 * in a core ends only its worker, and the deadline still stops any unit. Units share nothing through a warm worker but
 * the loaded modules: each unit's input arrives in its own message and its output leaves with the reply.
 *
 * At most one idle worker per kind (stage, core module, KILN_* environment — a worker's environment is a copy taken
 * when it started, so a change of the settings starts a new one); an idle worker does not keep the process alive and
 * ends after IDLE_MS.
 */
const IDLE_MS = 10 * 60_000;

const idle = new Map<string, { worker: Worker; timer: NodeJS.Timeout; onExit: () => void }>();

/** The KILN_* environment as a key: workers started under other settings are not reused. */
export function environmentKey(env: NodeJS.ProcessEnv = process.env): string {
  return JSON.stringify(
    Object.entries(env)
      .filter(([k]) => k.startsWith('KILN_'))
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}

/** An idle worker of this kind (taken out of the pool), or a new one from `start`. */
export function takeWorker(kind: string, start: () => Worker): { worker: Worker; warm: boolean } {
  const w = idle.get(kind);
  if (w) {
    idle.delete(kind);
    clearTimeout(w.timer);
    w.worker.removeListener('exit', w.onExit);
    w.worker.ref();
    return { worker: w.worker, warm: true };
  }
  return { worker: start(), warm: false };
}

/** Gives back a worker that finished its unit cleanly: kept for the next unit of its kind, or ended. */
export function returnWorker(kind: string, worker: Worker): void {
  if (idle.has(kind)) {
    void worker.terminate();
    return;
  }
  worker.unref();
  const timer = setTimeout(() => {
    if (idle.get(kind)?.worker === worker) idle.delete(kind);
    void worker.terminate();
  }, IDLE_MS);
  timer.unref();
  // An idle worker that dies (it should not) is simply forgotten.
  const onExit = (): void => {
    if (idle.get(kind)?.worker !== worker) return;
    idle.delete(kind);
    clearTimeout(timer);
  };
  worker.once('exit', onExit);
  idle.set(kind, { worker, timer, onExit });
}

/** Ends every idle worker (tests, shutdown). */
export async function endIdleWorkers(): Promise<void> {
  const all = [...idle.values()];
  idle.clear();
  for (const w of all) clearTimeout(w.timer);
  await Promise.all(all.map((w) => w.worker.terminate()));
}
