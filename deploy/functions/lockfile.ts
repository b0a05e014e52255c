/**
 * The package-lock.json of the deployed functions source, derived from the repository's lock file: the packages the
 * bundle's dependencies reach (dependencies, optional dependencies and required peers, resolved the way Node finds
 * them: nested node_modules first, then each enclosing one), copied entry for entry with their integrity hashes.
 * Deterministic and offline, so `npm ci --omit=dev` installs exactly the versions the repository was tested with.
 * Pure: the build script does the I/O.
 */
export interface LockEntry {
  name?: string;
  version?: string;
  link?: boolean;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [field: string]: unknown;
}

export interface PackageLock {
  name?: string;
  version?: string;
  lockfileVersion?: number;
  requires?: boolean;
  packages?: Record<string, LockEntry>;
}

/** The lock path Node would load `name` from when required by the package at lock path `from` ('' = the root). */
export function resolveLockPath(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (base === '') return undefined;
    const i = base.lastIndexOf('/node_modules/');
    base = i < 0 ? '' : base.slice(0, i);
  }
}

type Edge = { name: string; optional: boolean };

function edgesOf(entry: LockEntry): Edge[] {
  const optionalPeer = (n: string): boolean => entry.peerDependenciesMeta?.[n]?.optional === true;
  return [
    ...Object.keys(entry.dependencies ?? {}).map((name) => ({ name, optional: false })),
    ...Object.keys(entry.optionalDependencies ?? {}).map((name) => ({ name, optional: true })),
    ...Object.keys(entry.peerDependencies ?? {}).map((name) => ({ name, optional: optionalPeer(name) })),
  ];
}

/**
 * The lock of a package named `name` whose dependencies are `dependencies` (exact versions, as the bundle's
 * package.json pins them), cut from the repository's lock `root`. Throws naming the package when a required
 * dependency is missing from the lock or locked at another version.
 */
export function deployLock(
  root: PackageLock,
  pkg: { name: string; version: string; dependencies: Record<string, string>; engines?: Record<string, string> },
): PackageLock {
  const packages = root.packages ?? {};
  /** lock path → reached through required edges only (false: only through optional ones so far). */
  const reached = new Map<string, boolean>();
  const queue: { path: string; required: boolean }[] = [];
  const visit = (from: string, edge: Edge, requiredParent: boolean): void => {
    const path = resolveLockPath(packages, from, edge.name);
    if (!path) {
      if (edge.optional) return;
      throw new Error(
        `package-lock.json has no entry for ${edge.name} (needed by ${from || 'the functions'}); run npm install first`,
      );
    }
    if (packages[path]!.link) throw new Error(`${path} is a linked package; the functions bundle cannot include it`);
    const required = requiredParent && !edge.optional;
    const seen = reached.get(path);
    if (seen === true || (seen === false && !required)) return;
    reached.set(path, required);
    queue.push({ path, required });
  };
  for (const [name, version] of Object.entries(pkg.dependencies)) {
    const path = resolveLockPath(packages, '', name);
    const locked = path ? packages[path]!.version : undefined;
    if (locked !== version) {
      throw new Error(`package-lock.json locks ${name} at ${locked ?? 'no version'}, not ${version}; run npm install`);
    }
    visit('', { name, optional: false }, true);
  }
  while (queue.length > 0) {
    const { path, required } = queue.shift()!;
    for (const edge of edgesOf(packages[path]!)) visit(path, edge, required);
  }

  const out: Record<string, LockEntry> = {
    '': {
      name: pkg.name,
      version: pkg.version,
      dependencies: pkg.dependencies,
      ...(pkg.engines ? { engines: pkg.engines } : {}),
    },
  };
  for (const path of [...reached.keys()].sort()) {
    const { dev: _dev, optional: _optional, devOptional: _devOptional, peer: _peer, ...entry } = packages[path]!;
    out[path] = reached.get(path) ? entry : { ...entry, optional: true };
  }
  return { name: pkg.name, version: pkg.version, lockfileVersion: 3, requires: true, packages: out };
}
