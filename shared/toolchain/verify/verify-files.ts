import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { CompileReport } from '../edgetpu/report.js';
import { KilnError } from '../../common/errors.js';
import { fromTflite } from '../ir/from-tflite.js';
import { loadQuantizeConfig } from '../quantize/config.js';
import { readTflite } from '../tflite/reader.js';
import { TaskSettingSchema, type TaskType } from './accuracy/task-type.js';
import { loadValidationSet } from './accuracy/validation.js';
import { renderReportHtml } from './report/html.js';
import type { VerifyReport } from './report/schema.js';
import { DEFAULT_MAX_SAMPLES, sampleCap, verifyModel } from './verify-model.js';

export interface VerifyFilesOptions {
  compileReport?: string;
  validation?: string;
  labels?: string;
  /** kiln.json: `quantize.calibration` says how images become inputs. */
  config?: string;
  outDir?: string;
  maxSamples?: number;
  debugSamples?: number;
  /** Worker threads for the accuracy runs (default: one per CPU when worth it; 1: this thread). */
  threads?: number;
  onProgress?: (phase: string, done: number, total: number) => void;
}

async function readInput(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch {
    throw new KilnError('E_FILE_NOT_FOUND', `${what} ${path} does not exist`, {
      hint: 'kiln verify <float.tflite> <int8.tflite>',
    });
  }
}

/** kiln.json `task`, when set (loadQuantizeConfig has already read and checked the file as JSON). */
async function taskSetting(path: string): Promise<TaskType | undefined> {
  const json = JSON.parse(await readFile(path, 'utf8')) as { task?: unknown };
  if (json.task === undefined) return undefined;
  const parsed = TaskSettingSchema.safeParse(json.task);
  if (!parsed.success)
    throw new KilnError('E_BAD_ARGUMENT', `${path}: "task" is ${JSON.stringify(json.task)}, not a task Kiln knows`, {
      hint: `Use one of ${TaskSettingSchema.options.join(', ')}`,
    });
  return parsed.data;
}

/** `kiln verify`: reads the models and data, runs verifyModel, writes report.json and report.html into outDir. */
export async function verifyFiles(
  floatPath: string,
  int8Path: string,
  o: VerifyFilesOptions = {},
): Promise<{ report: VerifyReport; files: string[] }> {
  const float = await readInput(floatPath, 'float model');
  const int8 = await readInput(int8Path, 'int8 model');
  let compileReport: CompileReport | undefined;
  if (o.compileReport) {
    const text = new TextDecoder().decode(await readInput(o.compileReport, 'compile report'));
    try {
      compileReport = JSON.parse(text) as CompileReport;
    } catch (e) {
      throw new KilnError('E_BAD_ARGUMENT', `${o.compileReport} is not JSON: ${(e as Error).message}`);
    }
    if (compileReport.schema !== 'kiln.compile-report/1')
      throw new KilnError('E_BAD_ARGUMENT', `${o.compileReport} is not a Kiln compile-report.json`, {
        hint: 'Pass the compile-report.json that kiln compile wrote',
      });
  }
  const cfg = await loadQuantizeConfig(o.config);
  const task = o.config ? await taskSetting(o.config) : undefined;
  const floatIr = fromTflite(readTflite(float));
  const inputs = floatIr.graph.inputs.map((t) => floatIr.graph.tensor(t));
  const max = sampleCap(inputs, o.maxSamples ?? DEFAULT_MAX_SAMPLES).max;
  // The loader reads at most the cap and counts the rest, so that the report can say how many were left out.
  const validation = await loadValidationSet(o.validation, o.labels, inputs, cfg.calibration, max);
  const report = await verifyModel({
    float: { name: basename(floatPath), bytes: float },
    int8: { name: basename(int8Path), bytes: int8 },
    ...(compileReport ? { compileReport } : {}),
    validation,
    maxSamples: max,
    ...(task ? { task } : {}),
    ...(o.debugSamples !== undefined ? { debugSamples: o.debugSamples } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  const dir = o.outDir ?? '.';
  await mkdir(dir, { recursive: true });
  const files = [join(dir, 'report.json'), join(dir, 'report.html')];
  await writeFile(files[0]!, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files[1]!, renderReportHtml(report));
  return { report, files };
}
