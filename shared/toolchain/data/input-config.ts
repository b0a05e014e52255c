import { z } from 'zod';

/**
 * How image files become model inputs (resize, fit, channel order, normalization): the `quantize.calibration` section of
 * kiln.json, which the quantizer's calibration data and verify's validation data both follow.
 */
export const CalibrationConfigSchema = z
  .object({
    /** Target size; defaults to the model input's H×W. */
    resize: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }).strict().optional(),
    /** squash: stretch to the size; cover: scale and center-crop; contain: scale and pad with black. */
    fit: z.enum(['squash', 'cover', 'contain']).default('squash'),
    channelOrder: z.enum(['RGB', 'BGR']).default('RGB'),
    /** Grayscale models (1 channel) get the luminance whatever this says. */
    normalization: z
      .union([
        z
          .object({ mean: z.array(z.number()).min(1).max(3), std: z.array(z.number().positive()).min(1).max(3) })
          .strict(),
        z.object({ scale: z.number(), offset: z.number() }).strict(),
      ])
      .optional(),
  })
  .strict();

export type CalibrationConfig = z.infer<typeof CalibrationConfigSchema>;

/** Used when kiln.json says nothing about normalization: pixels to [−1, 1] (MobileNet/Keras convention). */
export const DEFAULT_NORMALIZATION = { mean: [127.5], std: [127.5] } as const;
