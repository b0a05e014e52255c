import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GROUPS, LAYERS } from './layers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const posix = (p) => p.split(sep).join('/');
const layerOf = (repoPath) => LAYERS.find((l) => repoPath === l.dir || repoPath.startsWith(`${l.dir}/`));
const allowed = (layer) => new Set([layer.name, ...layer.mayImport.flatMap((n) => GROUPS[n] ?? [n])]);

/**
 * `kiln/import-layers`: a file under shared/ imports only its own layer and the layers eslint/layers.js lets it
 * import, and never code outside shared/ (functions, emulators, test, …). Relative specifiers are resolved to repo
 * paths; package imports are not this rule's business.
 */
export const importLayers = {
  meta: {
    type: 'problem',
    docs: { description: 'enforce the layer table of eslint/layers.js on imports under shared/' },
    schema: [],
    messages: {
      unlisted:
        "{{file}} is in no layer of eslint/layers.js: add its folder to the table (or move the file into a layer's folder)",
      upward:
        "layer '{{from}}' may not import layer '{{to}}' ({{target}}): move the shared code down, or pass it in from above",
      outside:
        'shared/ code may not import {{target}}, which is outside shared/: move that code into a layer of shared/',
    },
  },
  create(context) {
    const file = posix(relative(ROOT, context.filename));
    if (!file.startsWith('shared/')) return {};
    const from = layerOf(file);
    const check = (node, spec) => {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = posix(relative(ROOT, resolve(dirname(context.filename), spec)));
      if (!from) return; // reported once, on the file
      if (!target.startsWith('shared/')) return context.report({ node, messageId: 'outside', data: { target } });
      const to = layerOf(target);
      if (!to) return context.report({ node, messageId: 'unlisted', data: { file: target } });
      if (!allowed(from).has(to.name))
        context.report({ node, messageId: 'upward', data: { from: from.name, to: to.name, target } });
    };
    const source = (node) => check(node.source, node.source?.value);
    return {
      Program(node) {
        if (!from) context.report({ node, messageId: 'unlisted', data: { file } });
      },
      ImportDeclaration: source,
      ExportNamedDeclaration: (node) => node.source && source(node),
      ExportAllDeclaration: source,
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
    };
  },
};

export default { rules: { 'import-layers': importLayers } };
