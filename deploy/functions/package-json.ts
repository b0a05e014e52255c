/**
 * The package.json of the deployed functions source (dist/functions): the repository's runtime dependencies pinned to
 * the exact versions package-lock.json resolved (dev tools left out), and npm's allow-list of install scripts. Its
 * package-lock.json comes from lockfile.ts. Pure: the build script does the I/O.
 */
export interface RootPackage {
  version?: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  /** npm's allow-list of dependencies whose install scripts may run (native builds); the bundle keeps it. */
  allowScripts?: Record<string, boolean>;
}

export interface PackageLock {
  packages?: Record<string, { version?: string }>;
}

/** Entry module of the functions framework inside dist/functions (functions/index.ts registers every function). */
export const FUNCTIONS_MAIN = 'functions/index.js';

export function deployPackageJson(root: RootPackage, lock: PackageLock): Record<string, unknown> {
  const names = Object.keys(root.dependencies ?? {});
  const missing: string[] = [];
  const dependencies: Record<string, string> = {};
  for (const name of [...new Set(names)].sort()) {
    const version = lock.packages?.[`node_modules/${name}`]?.version;
    if (version) dependencies[name] = version;
    else missing.push(name);
  }
  if (missing.length > 0) {
    throw new Error(`package-lock.json has no resolved version for ${missing.join(', ')}; run npm install first`);
  }
  return {
    name: 'kiln-functions',
    version: root.version ?? '0.0.0',
    private: true,
    type: 'module',
    main: FUNCTIONS_MAIN,
    engines: { node: root.engines?.['node'] ?? '22.x' },
    dependencies,
    ...(root.allowScripts ? { allowScripts: root.allowScripts } : {}),
  };
}
