import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { CompileOptions } from './compile-model.js';
import { DEFAULT_TIMEOUT_SEC } from './strings.js';

/**
 * The real `edgetpu_compiler`: where it is, how to call it, and running it with a timeout (child_process, no shell).
 */
export const COMPILER_ENV = 'KILN_EDGETPU_COMPILER';

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `KILN_EDGETPU_COMPILER` if set (a path or a name on PATH), else `edgetpu_compiler` on PATH, else null. */
export function findCompiler(env: NodeJS.ProcessEnv = process.env): string | null {
  const named = env[COMPILER_ENV];
  const name = named && named.length > 0 ? named : 'edgetpu_compiler';
  if (name.includes('/')) return executable(name) ? (isAbsolute(name) ? name : join(process.cwd(), name)) : null;
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (executable(p)) return p;
  }
  return null;
}

/** The command line for the given options (long-standing short flags, docs/specs/edgetpu-compiler.md §4, §6.5). */
export function compilerArgs(paths: readonly string[], o: CompileOptions): string[] {
  const a: string[] = [];
  if (o.outDir !== undefined && o.outDir !== '') a.push('-o', o.outDir);
  if (o.minRuntime !== undefined) a.push('-m', String(o.minRuntime));
  if (o.multipleSubgraphs) a.push('-a');
  if (o.numSegments !== undefined) a.push('-n', String(o.numSegments));
  if (o.intermediateTensors?.length) a.push('-i', o.intermediateTensors.join(','));
  if (o.searchDelegate) a.push('-d');
  if (o.delegateSearchStep !== undefined) a.push('-k', String(o.delegateSearchStep));
  if (o.showOperations) a.push('-s');
  if (o.timeoutSec !== undefined) a.push('-t', String(o.timeoutSec));
  return [...a, ...paths];
}

export interface RunResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs the compiler; kills it after `timeoutMs` (default: its own -t plus 60 s per compile child). */
export function runCompiler(
  exe: string,
  paths: readonly string[],
  o: CompileOptions,
  opts: { timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  const children = Math.max(1, o.numSegments ?? paths.length);
  const timeoutMs = opts.timeoutMs ?? ((o.timeoutSec ?? DEFAULT_TIMEOUT_SEC) + 60) * 1000 * children;
  return new Promise((resolve, reject) => {
    const child = spawn(exe, compilerArgs(paths, o), {
      cwd: opts.cwd ?? process.cwd(),
      env: opts.env ?? process.env,
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        exitCode: code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
  });
}
