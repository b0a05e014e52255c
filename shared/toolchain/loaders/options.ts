import { KilnError } from '../../common/errors.js';

/** A graph input the user pins: its name (Keras input layer or TF node) and full static shape. */
export interface InputSpec {
  name: string;
  shape: number[];
}

/** What the user can say about a conversion (CLI flags or the build config). */
export interface ConvertOptions {
  /** Input shapes, and for TF graphs cut points: a named node becomes a graph input of this shape. */
  inputs?: InputSpec[];
  /** Output node / layer names (cut points); default: the model's own outputs. */
  outputs?: string[];
  /** SavedModel signature to convert (default serving_default). */
  signature?: string;
  /**
   * Layout of 4-D image inputs of channels-first (ONNX) models: 'source' keeps the exported NCHW, 'nhwc' takes NHWC
   * images (what the Edge TPU pipeline feeds), so the converted graph starts without a TRANSPOSE.
   */
  inputLayout?: 'source' | 'nhwc';
}

/** Parses `name:d0,d1,...` specs: `Mfcc:1,49,10`, several as `a:1,4,b:1,8` or `a:1,4;b:1,8`. */
export function parseInputSpecs(text: string): InputSpec[] {
  const specs: InputSpec[] = [];
  for (const token of text.split(/[,;]/).map((t) => t.trim())) {
    if (token === '') continue;
    const colon = token.lastIndexOf(':');
    if (colon >= 0) {
      const name = token.slice(0, colon).trim();
      if (!name) throw badSpec(text, 'an input has no name');
      specs.push({ name, shape: [] });
    }
    const dim = colon >= 0 ? token.slice(colon + 1).trim() : token;
    const cur = specs.at(-1);
    if (!cur) throw badSpec(text, 'expected name:d0,d1,...');
    const d = Number(dim);
    if (dim === '' || !Number.isInteger(d) || d <= 0)
      throw badSpec(text, `dimension "${dim}" of ${cur.name} is not a positive integer`);
    cur.shape.push(d);
  }
  if (specs.length === 0) throw badSpec(text, 'expected name:d0,d1,...');
  return specs;
}

/** Parses `a,b,c` output names. */
export function parseOutputNames(text: string): string[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0)
    throw new KilnError('E_BAD_ARGUMENT', `--outputs "${text}" names no outputs`, {
      hint: 'Give node names: --outputs labels_softmax',
    });
  return names;
}

function badSpec(text: string, why: string): KilnError {
  return new KilnError('E_BAD_ARGUMENT', `--inputs "${text}": ${why}`, {
    hint: 'Write --inputs name:1,224,224,3 (several: a:1,4,b:1,8)',
  });
}

/** A pinned shape for `name` (matching "name" or "name:0"). */
export function pinnedShape(opts: ConvertOptions, name: string): number[] | undefined {
  return opts.inputs?.find((s) => s.name === name || s.name === `${name}:0` || `${s.name}:0` === name)?.shape;
}

/**
 * The `convert` section of kiln.json, checked: `inputs` as "name:d0,d1,..." text or [{name, shape}], `outputs` as
 * "a,b" text or a list of names, `signature` a name.
 */
export function convertOptionsFromConfig(json: unknown, source = 'kiln.json'): ConvertOptions {
  if (json === undefined || json === null) return {};
  const bad = (why: string): KilnError =>
    new KilnError('E_BAD_ARGUMENT', `${source}: convert.${why}`, {
      hint: 'convert: {"inputs": "name:1,224,224,3", "outputs": ["name"], "signature": "serving_default"}',
    });
  if (typeof json !== 'object' || Array.isArray(json)) throw bad(' must be an object');
  const c = json as Record<string, unknown>;
  const out: ConvertOptions = {};
  if (c['inputs'] !== undefined) {
    if (typeof c['inputs'] === 'string') out.inputs = parseInputSpecs(c['inputs']);
    else if (Array.isArray(c['inputs'])) {
      out.inputs = c['inputs'].map((s) => {
        const o = s as Record<string, unknown>;
        if (
          !o ||
          typeof o['name'] !== 'string' ||
          !Array.isArray(o['shape']) ||
          !o['shape'].every((d) => Number.isInteger(d) && (d as number) > 0)
        ) {
          throw bad('inputs entries need {"name": string, "shape": [positive integers]}');
        }
        return { name: o['name'], shape: (o['shape'] as number[]).map(Number) };
      });
    } else throw bad('inputs must be text or a list');
  }
  if (c['outputs'] !== undefined) {
    if (typeof c['outputs'] === 'string') out.outputs = parseOutputNames(c['outputs']);
    else if (Array.isArray(c['outputs']) && c['outputs'].every((s) => typeof s === 'string'))
      out.outputs = c['outputs'] as string[];
    else throw bad('outputs must be text or a list of names');
  }
  if (c['inputLayout'] !== undefined) {
    if (c['inputLayout'] !== 'source' && c['inputLayout'] !== 'nhwc')
      throw bad('inputLayout must be "source" or "nhwc"');
    out.inputLayout = c['inputLayout'];
  }
  if (c['signature'] !== undefined) {
    if (typeof c['signature'] !== 'string') throw bad('signature must be a name');
    out.signature = c['signature'];
  }
  return out;
}
