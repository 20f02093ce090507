/**
 * Modules that only some runs need, loaded when first used, so that a cold start of the command
 * line pays for none it does not use:
 * - yaml: YAML specs, the kubernetes target and YAML imports use it; it is a seventh of the
 *   bundled command line (scripts/bundle.mjs leaves it out), so a JSON or TypeScript build never
 *   parses it;
 * - node:crypto: only a bridged container's names hash its name (it loads some twenty of Node's
 *   internal modules, 5 to 10 ms of a start);
 * - node:net: only IP addresses in a spec are checked with its isIP (it loads Node's sockets).
 */
import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

function lazy<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= requireHere(id) as T);
}

export const yaml = lazy<typeof import('yaml')>('yaml');
export const crypto = lazy<typeof import('node:crypto')>('node:crypto');
export const net = lazy<typeof import('node:net')>('node:net');
