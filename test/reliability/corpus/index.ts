import { ARCHIVE_CASES } from './archive-cases.js';
import { FOLDER_CASES } from './folder-cases.js';
import { TFLITE_CASES } from './tflite-cases.js';
import type { BadInput } from './types.js';

export type { BadInput } from './types.js';

/** The bad-input corpus: every case must fail `kiln build` and a pipeline build with a clear bad-input reason. */
export const CORPUS: BadInput[] = [...TFLITE_CASES, ...ARCHIVE_CASES, ...FOLDER_CASES];
