import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { KilnError } from '../../common/errors.js';
import { CalibrationConfigSchema } from '../data/input-config.js';
import { RANGE_METHODS } from './ranges.js';

/** The `quantize` section of kiln.json. */
export const QuantizeConfigSchema = z
  .object({
    method: z.enum(RANGE_METHODS).default('minmax'),
    percentile: z.number().gt(50).lte(100).default(99.99),
    samples: z.number().int().positive().default(200),
    io: z.enum(['uint8', 'int8']).default('uint8'),
    allowFloatFallback: z.boolean().default(false),
    /** Calibration samples also used by the per-layer debugger (0 turns it off). */
    debugSamples: z.number().int().nonnegative().default(16),
    calibration: CalibrationConfigSchema.default({ fit: 'squash', channelOrder: 'RGB' }),
  })
  .strict();

/** kiln.json: this module reads only `quantize`; other stages own the other sections. */
export const BuildConfigSchema = z.object({ quantize: QuantizeConfigSchema.optional() }).passthrough();

export type QuantizeConfig = z.infer<typeof QuantizeConfigSchema>;

export function parseQuantizeConfig(json: unknown, source = 'kiln.json'): QuantizeConfig {
  const parsed = BuildConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new KilnError('E_BAD_ARGUMENT', `${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`, {
      hint: 'See the quantize section of kiln.json: method, samples, io, calibration {resize, fit, channelOrder, normalization}',
    });
  }
  return QuantizeConfigSchema.parse(parsed.data.quantize ?? {});
}

export async function loadQuantizeConfig(path: string | undefined): Promise<QuantizeConfig> {
  if (path === undefined) return parseQuantizeConfig({});
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new KilnError('E_FILE_NOT_FOUND', `cannot read the build config ${path}`, {
      hint: 'Pass --config with a path to kiln.json',
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new KilnError('E_BAD_ARGUMENT', `${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseQuantizeConfig(json, path);
}
