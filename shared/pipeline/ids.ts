import { createHash } from 'node:crypto';

/**
 * Identifiers. A build is the upload's bucket/object/generation: the same storage event delivered again maps to the
 * same buildId, a new generation of the same object to a new one.
 */
export function buildIdOf(bucket: string, object: string, generation: string): string {
  return createHash('sha256').update(`gs://${bucket}/${object}#${generation}`).digest('hex').slice(0, 24);
}

/** A Firestore-safe model id from the upload path: `models/mobilenet v1.tflite` → `models-mobilenet-v1`. */
export function modelIdOf(modelPath: string): string {
  const base = modelPath
    .replace(/\/kiln\.json$/, '')
    .replace(/\.(tar\.gz|tgz|tflite|h5|hdf5|keras|onnx|zip)$/i, '')
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  const id = base === '' || base === '..' ? 'model' : base;
  return id.slice(0, 200);
}

export function gsUri(bucket: string, object: string): string {
  return `gs://${bucket}/${object}`;
}

export function parseGsUri(uri: string): { bucket: string; object: string } {
  const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new Error(`not a gs:// object URI: ${uri}`);
  return { bucket: m[1]!, object: m[2]! };
}

/** Where a build's artifacts live: `<modelId>/<buildId>/<name>`. */
export function artifactObject(modelId: string, buildId: string, name: string): string {
  return `${modelId}/${buildId}/${name}`;
}
