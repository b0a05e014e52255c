import type { StageCore, StageCores } from '../core.js';
import { loadConfig } from '../config.js';
import { stageUnavailable } from '../errors.js';
import { limitsOf, withLimits } from '../limits.js';

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

/** The cores under the limits of the KILN_* environment (shared/pipeline/limits.ts) and its resource settings. */
export const STAGE_CORES: StageCores = withLimits(
  {
    convert: lazyCore('convert', async () => (await import('./convert.js')).convertCore),
    quantize: lazyCore('quantize', async () =>
      (await import('./quantize.js')).quantizeCoreWith(() => settings().calibrationThreads),
    ),
    compile: lazyCore('compile', async () => (await import('./compile.js')).compileCore),
    verify: lazyCore('verify', async () => (await import('./verify.js')).verifyCore),
  },
  () => limitsOf(settings()),
);
