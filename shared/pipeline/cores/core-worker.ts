/**
 * A unit worker thread (isolate.ts): for each unit message, loads its stage core, runs it on the unit's input, and
 * posts the output (or the error) back; it may then get the next unit of the same stage (warm-workers.ts). The main
 * thread terminates it when the unit's deadline passes, which stops even synchronous work (a long interpreter loop)
 * that a timer on the main thread could not interrupt.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isKilnError } from '../../common/errors.js';
import type { StageCore } from '../core.js';
import { CORE_LOADERS, type CoreStage } from './loaders.js';
import type { UnitWorkerInput, UnitWorkerReply, UnitWorkerSetup } from './isolate.js';

const setup = workerData as UnitWorkerSetup;

function loaderOf(stage: CoreStage): () => Promise<StageCore> {
  const load = CORE_LOADERS[stage];
  if (!load) throw new Error(`stage ${stage} has no core`);
  return load;
}

async function run({ input }: UnitWorkerInput): Promise<UnitWorkerReply> {
  try {
    const core: StageCore = setup.module
      ? ((await import(setup.module)) as Record<string, StageCore>)[setup.exportName!]!
      : await loaderOf(setup.stage as CoreStage)();
    const output = await core({ ...input, artifacts: new Map(input.artifacts) });
    return { ok: true, output };
  } catch (e) {
    if (isKilnError(e))
      return { ok: false, error: { kiln: true, code: e.code, message: e.message, hint: e.hint ?? null } };
    const err = e as { message?: unknown; code?: unknown; stack?: unknown };
    return {
      ok: false,
      error: {
        kiln: false,
        message: typeof err?.message === 'string' ? err.message : String(e),
        code: typeof err?.code === 'string' || typeof err?.code === 'number' ? err.code : null,
        stack: typeof err?.stack === 'string' ? err.stack : null,
      },
    };
  }
}

function post(reply: UnitWorkerReply): void {
  const transfer = reply.ok ? Object.values(reply.output.artifacts).map((a) => a.buffer as ArrayBuffer) : [];
  // Output buffers are the worker's own: transfer them (a view into a shared pool would be copied instead).
  const unique = [...new Set(transfer)].filter((b) => b.byteLength > 0 && !(b instanceof SharedArrayBuffer));
  try {
    parentPort!.postMessage(reply, unique);
  } catch {
    parentPort!.postMessage(reply);
  }
}

parentPort!.on('message', (m: UnitWorkerInput) => void run(m).then(post));
