import type { DataFolder } from './upload-data.js';

/**
 * The upload's data folders each stage's core reads (the rest of a build's data files, often thousands of images,
 * are not downloaded for it): quantize calibrates on `calibration/`; verify scores `validation/`, or, without it, the
 * calibration files the quantizer held back; compile and finish read none. A stage not in the table reads every
 * folder. Keep it in step with the cores' `filesIn` calls (shared/pipeline/cores/).
 */
const DATA_INPUTS: Readonly<Record<string, (present: ReadonlySet<DataFolder>) => DataFolder[]>> = {
  quantize: () => ['calibration'],
  compile: () => [],
  verify: (present) => (present.has('validation') ? ['validation'] : ['calibration']),
  finish: () => [],
};

/** The data folder of a data file name (`calibration/a.png` → calibration), or null. */
function folderOf(name: string): DataFolder | null {
  const top = name.slice(0, name.indexOf('/'));
  return top === 'calibration' || top === 'validation' ? top : null;
}

/** Which of these data file names `stage` reads. Pure. */
export function dataFilesFor(stage: string, names: readonly string[]): string[] {
  const pick = DATA_INPUTS[stage];
  if (!pick) return [...names];
  const present = new Set(names.map(folderOf).filter((f): f is DataFolder => f !== null));
  const wanted = new Set(pick(present));
  return names.filter((n) => {
    const f = folderOf(n);
    return f === null || wanted.has(f);
  });
}
