/**
 * The YAML library, loaded when first needed: only YAML specs, the kubernetes target and YAML
 * imports use it, and it is a seventh of the bundled command line (scripts/bundle.mjs leaves it
 * out), so a JSON or TypeScript build never parses it.
 */
import { createRequire } from 'node:module';

type Yaml = typeof import('yaml');

let loaded: Yaml | undefined;

export function yaml(): Yaml {
  loaded ??= createRequire(import.meta.url)('yaml') as Yaml;
  return loaded;
}
