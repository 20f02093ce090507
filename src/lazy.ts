/**
 * Modules that only some runs need, loaded when first used, so that a cold start of the command
 * line pays for none it does not use:
 * - yaml: YAML specs, the kubernetes target and YAML imports use it, and a JSON or TypeScript
 *   build need not load it;
 * - node:crypto: only a bridged container's names hash its name (it loads some twenty of Node's
 *   internal modules, 5 to 10 ms of a start);
 * - node:net: only IP addresses in a spec are checked with its isIP (it loads Node's sockets);
 * - esbuild: only TypeScript and JavaScript specs need it. Required, not imported: import()
 *   of a CommonJS package first scans its source for export names (~30 ms for esbuild's).
 */
import { createRequire } from 'node:module';

// In the bundled command line, scripts/bundle.mjs makes requireHere('yaml') load the yaml bundle
// (dist/bundle/yaml.js, with its own code cache) instead of yaml's ~80 files in node_modules.
const requireHere = createRequire(import.meta.url);

function lazy<T>(load: () => unknown): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load() as T);
}

export const yaml = lazy<typeof import('yaml')>(() => requireHere('yaml'));
export const crypto = lazy<typeof import('node:crypto')>(() => requireHere('node:crypto'));
export const net = lazy<typeof import('node:net')>(() => requireHere('node:net'));
export const esbuild = lazy<typeof import('esbuild')>(() => requireHere('esbuild'));
