import { z } from 'zod';
import { DATA_MANIFEST } from './artifacts.js';
import { DATA_FOLDERS } from './upload-data.js';

/**
 * Calibration and validation files travel as build artifacts (upload-data.ts), but a build may carry 100,000 of them:
 * listed in the build document they would pass Firestore's 1 MiB limit. So the document names one artifact, the data
 * manifest (`data-files.json`: file name → gs:// URI), and later stages read the files through it. Pure.
 */
export { DATA_MANIFEST };

const ManifestSchema = z.strictObject({
  schema: z.literal('dev.kiln.data-files.v1'),
  files: z.record(z.string(), z.string().startsWith('gs://')),
});

const DATA_PREFIXES = DATA_FOLDERS.map((f) => `${f}/`);

export function isDataArtifact(name: string): boolean {
  return DATA_PREFIXES.some((p) => name.startsWith(p));
}

export function isDataManifest(name: string): boolean {
  return name === DATA_MANIFEST || name.endsWith(`/${DATA_MANIFEST}`);
}

/** Written artifacts (name → URI) split into those the build document lists and the data files. */
export function splitArtifacts(written: Record<string, string>): {
  listed: Record<string, string>;
  data: Record<string, string>;
} {
  const listed: Record<string, string> = {};
  const data: Record<string, string> = {};
  for (const [name, uri] of Object.entries(written)) (isDataArtifact(name) ? data : listed)[name] = uri;
  return { listed, data };
}

export function encodeDataManifest(files: Record<string, string>): Uint8Array {
  return Buffer.from(JSON.stringify({ schema: 'dev.kiln.data-files.v1', files }));
}

export function parseDataManifest(bytes: Uint8Array): Record<string, string> {
  return ManifestSchema.parse(JSON.parse(Buffer.from(bytes).toString('utf8'))).files;
}
