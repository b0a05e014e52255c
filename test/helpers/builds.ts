import type { UploadRef } from '../../shared/pipeline/messages.js';

/** A single-file upload reference for build-state tests (the object itself is never read). */
export const SINGLE_FILE_UPLOAD: UploadRef = {
  bucket: 'kiln-uploads',
  object: 'm.tflite',
  generation: '7',
  kind: 'single-file',
  format: 'tflite',
  uri: 'gs://kiln-uploads/m.tflite',
};

/** `s` seconds into a fixed day, as the ISO time the build state records. */
export const T = (s: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
