import { parse } from '@cdktf/hcl2json';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** terraform/*.tf parsed to JSON (@cdktf/hcl2json) and merged: blocks by type and name, locals as one object. */
export const ROOT = join(import.meta.dirname, '..', '..');
export const TERRAFORM_DIR = join(ROOT, 'terraform');

export type Block = Record<string, any>;

export interface TerraformConfig {
  resources: Record<string, Record<string, Block>>;
  data: Record<string, Record<string, Block>>;
  variables: Record<string, Block>;
  outputs: Record<string, Block>;
  locals: Record<string, any>;
}

let cached: Promise<TerraformConfig> | undefined;

export function terraformConfig(): Promise<TerraformConfig> {
  cached ??= load();
  return cached;
}

async function load(): Promise<TerraformConfig> {
  const config: TerraformConfig = { resources: {}, data: {}, variables: {}, outputs: {}, locals: {} };
  const files = readdirSync(TERRAFORM_DIR).filter((f) => f.endsWith('.tf'));
  for (const file of files.sort()) {
    const json = (await parse(file, readFileSync(join(TERRAFORM_DIR, file), 'utf8'))) as Record<string, any>;
    for (const [kind, target] of [
      ['resource', config.resources],
      ['data', config.data],
    ] as const) {
      for (const [type, byName] of Object.entries((json[kind] ?? {}) as Record<string, Record<string, Block[]>>)) {
        for (const [name, blocks] of Object.entries(byName)) {
          (target[type] ??= {})[name] = blocks[0]!;
        }
      }
    }
    for (const [name, blocks] of Object.entries((json['variable'] ?? {}) as Record<string, Block[]>)) {
      config.variables[name] = blocks[0]!;
    }
    for (const [name, blocks] of Object.entries((json['output'] ?? {}) as Record<string, Block[]>)) {
      config.outputs[name] = blocks[0]!;
    }
    for (const locals of (json['locals'] ?? []) as Record<string, unknown>[]) Object.assign(config.locals, locals);
  }
  return config;
}

/** The resource, or a thrown error naming it (a missing resource is a test failure, not a crash in a lookup). */
export function resource(config: TerraformConfig, type: string, name: string): Block {
  const r = config.resources[type]?.[name];
  if (!r) throw new Error(`terraform has no resource ${type}.${name}`);
  return r;
}

/** The first nested block of that name (hcl2json gives nested blocks as arrays). */
export function block(parent: Block, name: string): Block {
  const b = (parent[name] as Block[] | undefined)?.[0];
  if (!b) throw new Error(`missing block ${name}`);
  return b;
}

/** Every resource as [type, name, block]. */
export function allResources(config: TerraformConfig): [string, string, Block][] {
  return Object.entries(config.resources).flatMap(([type, byName]) =>
    Object.entries(byName).map(([name, b]) => [type, name, b] as [string, string, Block]),
  );
}

/** Functions in functions/: every folder with an index.ts (lib/ holds shared adapter code). */
export function functionDirs(): string[] {
  const dir = join(ROOT, 'functions');
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && readdirSync(join(dir, d.name)).includes('index.ts') && d.name !== 'lib')
    .map((d) => d.name)
    .sort();
}
