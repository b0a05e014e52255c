import type { StageCore, StageCores } from '../core.js';
import { loadConfig } from '../config.js';
import { stageUnavailable } from '../errors.js';
import { limitsOf, withLimits } from '../limits.js';
import { isolatedCore } from './isolate.js';
import { CORE_LOADERS, type CoreStage } from './loaders.js';

/**
 * The stage cores of this build of Kiln, by stage, loaded on first use. A core whose module is missing from this build
 * (or a stage with no core, like verify until shared/verify lands) fails its builds with "stage X is not available in
 * this build" on the build record — never a fake success. Other load errors are bugs and propagate.
 */
function lazyCore(stage: string, load: () => Promise<StageCore>): StageCore {
  let loaded: Promise<StageCore> | undefined;
  return async (input) => {
    loaded ??= load().catch((e: unknown) => {
      loaded = undefined;
      const code = (e as { code?: string })?.code;
      if (code === 'ERR_MODULE_NOT_FOUND') throw stageUnavailable(stage, (e as Error).message.split('\n')[0]!);
      throw e;
    });
    return (await loaded)(input);
  };
}

/** The KILN_* environment, read on every call: it may change between builds in one process. */
const settings = () => loadConfig();

/** A stage's core in this process, or in a unit worker of its own (KILN_UNIT_ISOLATION=worker), per build. */
function stageCore(stage: CoreStage, load: () => Promise<StageCore>): StageCore {
  const inProcess = lazyCore(stage, load);
  const inWorker = isolatedCore(stage);
  return (input) => (settings().unitIsolation === 'worker' ? inWorker : inProcess)(input);
}

/** The cores under the limits of the KILN_* environment (shared/pipeline/limits.ts) and its resource settings. */
export const STAGE_CORES: StageCores = withLimits(
  Object.fromEntries(
    (Object.entries(CORE_LOADERS) as [CoreStage, () => Promise<StageCore>][]).map(([s, load]) => [
      s,
      stageCore(s, load),
    ]),
  ) as StageCores,
  () => limitsOf(settings()),
);
