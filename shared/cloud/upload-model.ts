import type { Storage } from '@google-cloud/storage';
import { KilnError } from '../common/errors.js';
import { buildIdOf, gsUri } from '../pipeline/ids.js';
import { singleFileFormat, type LocalModel } from '../pipeline/local-model.js';
import { classifyUpload } from '../pipeline/uploads.js';

/**
 * Puts a local model into the uploads bucket the way a build starts (docs/pipeline.md): a single file's
 * `<stem>.kiln.json` first, then the file; a folder's files, then its `kiln.json` last (`{}` when it has none).
 * Returns the object that starts the build, its generation and the build id the pipeline will give it.
 */
export interface UploadedModel {
  object: string;
  generation: string;
  uri: string;
  buildId: string;
  modelId: string;
}

async function save(storage: Storage, bucket: string, object: string, bytes: Uint8Array | string): Promise<string> {
  const file = storage.bucket(bucket).file(object);
  await file.save(typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
    resumable: false,
  });
  const generation = file.metadata?.generation ?? (await file.getMetadata())[0].generation;
  return String(generation);
}

/**
 * `as` renames the upload (file name or folder name) in the bucket. `under` puts a folder upload inside a folder of the
 * bucket (`<under>/<name>/…`, e.g. a prefix the bucket's lifecycle rules empty); a single file must be top-level.
 */
/** Uploads one folder upload keeps under way at once. */
const SAVES_AT_ONCE = 8;

export async function uploadModel(
  storage: Storage,
  bucket: string,
  model: LocalModel,
  opts: { as?: string; under?: string } = {},
): Promise<UploadedModel> {
  const plain = opts.as ?? model.name;
  if (plain.includes('/') || plain === '')
    throw new KilnError('E_BAD_ARGUMENT', `upload name "${plain}" must be a plain file or folder name`);
  const under = opts.under?.replace(/^\/+|\/+$/g, '');
  if (under && model.kind === 'single-file')
    throw new KilnError(
      'E_BAD_ARGUMENT',
      `a single model file builds only at the top level of the bucket, not under ${under}/`,
      {
        hint: 'Upload it as a folder (the file plus a kiln.json written last) to keep it under a prefix',
      },
    );
  const name = under ? `${under}/${plain}` : plain;
  let object: string;
  let generation: string;
  if (model.kind === 'single-file') {
    const match = singleFileFormat(name);
    if (!match)
      throw new KilnError('E_BAD_ARGUMENT', `upload name "${name}" has no model file extension`, {
        hint: 'Keep the extension of the model file',
      });
    if (model.configText !== undefined)
      await save(storage, bucket, `${name.slice(0, -match.suffix.length)}.kiln.json`, model.configText);
    const [bytes] = [...model.files.values()] as [Uint8Array];
    object = name;
    generation = await save(storage, bucket, object, bytes);
  } else {
    // Folder files go up SAVES_AT_ONCE at a time (as `gcloud storage cp -r` does); kiln.json, which starts the
    // build, only after every one of them.
    const files = [...model.files];
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < files.length) {
        const [rel, bytes] = files[next++]!;
        await save(storage, bucket, `${name}/${rel}`, bytes);
      }
    };
    await Promise.all(Array.from({ length: Math.min(SAVES_AT_ONCE, files.length) }, lane));
    object = `${name}/kiln.json`;
    generation = await save(storage, bucket, object, model.configText ?? '{}');
  }
  const kind = classifyUpload(object, undefined);
  if (kind.kind === 'ignored')
    throw new KilnError('E_BAD_ARGUMENT', `${object} would not start a build: ${kind.reason}`);
  return {
    object,
    generation,
    uri: gsUri(bucket, object),
    buildId: buildIdOf(bucket, object, generation),
    modelId: kind.modelId,
  };
}
