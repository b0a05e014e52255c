import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildBundle, bundleInputsHash, REPO_ROOT } from '../../deploy/functions/bundle.js';

/**
 * The functions bundle (deploy/functions/bundle.ts) built and installed with `npm ci --omit=dev`, cached by the hash of
 * its inputs in `.kiln/bundle/<hash>/`: the first `npm start` after a change builds it, later ones reuse it. Several
 * processes may ask at once (parallel test files): one builds under a lock, the others wait for it.
 */
export const BUNDLE_CACHE_DIR = join(REPO_ROOT, '.kiln', 'bundle');
/** Installed bundles kept besides the current one (older ones are removed). */
const KEEP = 2;
/** A lock older than this whose owner is gone is taken over. */
const WAIT_MS = 15 * 60_000;

const run = promisify(execFile);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the build lock of `hash`, or returns false when a live process holds it. */
function tryLock(lock: string): boolean {
  try {
    mkdirSync(lock);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    let owner = 0;
    try {
      owner = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    } catch {
      // the owner has not written its pid yet
      return false;
    }
    if (owner && alive(owner)) return false;
    rmSync(lock, { recursive: true, force: true });
    return tryLock(lock);
  }
  writeFileSync(join(lock, 'pid'), String(process.pid));
  return true;
}

function prune(cache: string, current: string): void {
  const installed = readdirSync(cache)
    .filter((d) => d !== current && /^[0-9a-f]{16}$/.test(d))
    .map((d) => ({ d, t: statSync(join(cache, d)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { d } of installed.slice(KEEP)) rmSync(join(cache, d), { recursive: true, force: true });
}

export interface InstalledBundle {
  dir: string;
  hash: string;
  /** True when this call built and installed it (false: found in the cache). */
  built: boolean;
}

/** The installed bundle of the current sources, built and installed first when the cache has none. */
export async function installedBundle(
  o: { cacheDir?: string; progress?: (line: string) => void } = {},
): Promise<InstalledBundle> {
  const cache = o.cacheDir ?? BUNDLE_CACHE_DIR;
  const hash = bundleInputsHash();
  const dir = join(cache, hash);
  const ready = (): boolean => existsSync(join(dir, 'node_modules', '.package-lock.json'));
  if (ready()) return { dir, hash, built: false };
  mkdirSync(cache, { recursive: true });
  const lock = join(cache, `${hash}.lock`);
  const deadline = Date.now() + WAIT_MS;
  while (!tryLock(lock)) {
    if (ready()) return { dir, hash, built: false };
    if (Date.now() > deadline) throw new Error(`timed out waiting for another process building ${dir} (${lock})`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  try {
    if (ready()) return { dir, hash, built: false };
    const work = join(cache, `${hash}.tmp-${process.pid}`);
    o.progress?.(`building the functions bundle ${hash} (tsc) …`);
    await buildBundle(work);
    o.progress?.(`installing its dependencies (npm ci --omit=dev) …`);
    await installBundle(work);
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
    prune(cache, hash);
    return { dir, hash, built: true };
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** `npm ci --omit=dev` in a bundle folder, as Cloud Functions' build does with the uploaded source. */
export async function installBundle(dir: string): Promise<void> {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  await run(npm, ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: dir,
    maxBuffer: 64 * 1024 * 1024,
    // As from a fresh shell: not the settings of an `npm start` this may run under (npm_* variables).
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD')),
  }).catch((e: { stderr?: string; message: string }) => {
    throw new Error(
      `npm ci --omit=dev failed in ${dir}: ${e.stderr?.trim().split('\n').slice(-20).join('\n') || e.message}`,
    );
  });
}
