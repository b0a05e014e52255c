import { z } from 'zod';

/**
 * The `train` block of kiln.json: present when the upload is a labelled image set to train a model from, rather than
 * a model. `route` picks how: `transfer` (a new classifier head on a base model's embedding) or `automl` (a CNN
 * searched and trained from scratch). Every field has a default, so `"train": {}` trains with transfer learning.
 */
export const TRAIN_ROUTES = ['transfer', 'automl'] as const;
export type TrainRoute = (typeof TRAIN_ROUTES)[number];

export const AugmentationSchema = z.strictObject({
  /** Mirror images left-right at random. */
  flip: z.boolean().default(true),
  /** Random crops of up to this fraction of each side (0: none). */
  crop: z.number().min(0).max(0.5).default(0.1),
  /** Random brightness change of up to ± this fraction. */
  brightness: z.number().min(0).max(1).default(0.1),
  /** Augmented copies of every training image (0: augmentation off). */
  copies: z.number().int().min(0).max(16).default(0),
});

export const TrainConfigSchema = z.strictObject({
  route: z.enum(TRAIN_ROUTES).default('transfer'),
  /**
   * Transfer learning's base model: a classifier `.tflite` (int8/uint8 or float) or any model Kiln converts, relative
   * to the dataset folder, or `gs://` in the same bucket. Default: none — the CLI's `--base` or the deployment's
   * default base must then name one.
   */
  base: z.string().min(1).optional(),
  /** The image list (`[TRAIN|VALIDATION|TEST,]path,label`), relative to the dataset; default: the one top-level CSV. */
  csv: z.string().min(1).optional(),
  /** Model input size for `automl` ([height, width] or one number); transfer learning uses the base's input. */
  inputSize: z
    .union([z.number().int().min(8).max(1024), z.tuple([z.number().int().min(8), z.number().int().min(8)])])
    .optional(),
  /** Passes over the training set. */
  epochs: z.number().int().min(1).max(1000).default(60),
  /** Wall-clock budget for training in seconds (training stops early at the end of an epoch past it). */
  timeBudgetSeconds: z.number().positive().max(86_400).optional(),
  /** Seed for the split, the head's initialization and the data order. */
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(1),
  learningRate: z.number().positive().max(10).default(0.1),
  /**
   * Threads `automl` trains on (data-parallel replicas; default: one per CPU available to the process). A training set
   * too small to be worth a thread's start-up uses fewer.
   */
  threads: z.number().int().min(1).max(64).optional(),
  /** Weight imprinting (Coral's few-shot retraining): the head is the normalized mean embedding of each class. */
  imprint: z.boolean().default(false),
  augmentation: AugmentationSchema.prefault({}),
  /** Shares of each class held out when the dataset does not split itself. */
  split: z
    .strictObject({
      validation: z.number().min(0).max(0.5).default(0.1),
      test: z.number().min(0).max(0.5).default(0.1),
    })
    .prefault({}),
});
export type TrainConfig = z.output<typeof TrainConfigSchema>;
export type TrainConfigInput = z.input<typeof TrainConfigSchema>;
