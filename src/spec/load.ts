/**
 * Reading a spec file: JSON, YAML, or a TypeScript/JavaScript module whose default export is
 * the spec (usually `export default defineContainer({...})`). TypeScript is bundled in memory
 * with esbuild, with `unshared` resolved to this very package, so a spec file works from any
 * folder without a project around it.
 */
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';
import { importModule } from '../import-module.js';
import * as library from '../index.js';
import { esbuild as loadEsbuild, yaml } from '../lazy.js';

/** A spec file that could not be read or parsed (as opposed to one that is invalid). */
export class SpecLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpecLoadError';
  }
}

const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);
export const SPEC_EXTENSIONS = ['.json', '.yaml', '.yml', ...MODULE_EXTENSIONS];

// Synchronous reads: a spec is one small file, and node:fs/promises would be one more module
// for the command line to load at every start.
async function readText(path: string): Promise<string> {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SpecLoadError(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code ?? String(error)})`);
  }
}

async function loadJson(path: string): Promise<unknown> {
  const text = await readText(path);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SpecLoadError(`${path}: not valid JSON: ${(error as Error).message}`);
  }
}

async function loadYaml(path: string): Promise<unknown> {
  const text = await readText(path);
  const { parseDocument } = yaml();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new SpecLoadError(doc.errors.map((e) => `${path}: not valid YAML: ${e.message}`).join('\n'));
  }
  return doc.toJS();
}

/** Set by scripts/bundle.mjs: the bundled command line (dist/bundle/unshared.js) is the library too. */
declare const __UNSHARED_BUNDLED__: boolean | undefined;

/** Where the bundled command line leaves itself for a spec's `import 'unshared'` (below). */
const SELF = Symbol.for('unshared.library');

/**
 * A spec's `import 'unshared'` gets the library already loaded. The library's own module file
 * does, from dist/src; the bundled command line is a script, not a module that `import` could
 * name, so there the spec gets a module of the same exports, read from the loaded library.
 */
function selfPlugin(): Plugin {
  if (typeof __UNSHARED_BUNDLED__ !== 'boolean') {
    const self = pathToFileURL(fileURLToPath(new URL('../index.js', import.meta.url))).href;
    return { name: 'unshared-self', setup: (build) => void build.onResolve({ filter: /^unshared$/ }, () => ({ path: self, external: true })) };
  }
  (globalThis as Record<symbol, unknown>)[SELF] = library;
  const names = Object.keys(library).join(', ');
  const contents = `const self = globalThis[Symbol.for(${JSON.stringify(SELF.description)})];\nexport const { ${names} } = self;\n`;
  return {
    name: 'unshared-self',
    setup(build) {
      build.onResolve({ filter: /^unshared$/ }, () => ({ path: 'unshared', namespace: 'unshared-self' }));
      build.onLoad({ filter: /.*/, namespace: 'unshared-self' }, () => ({ contents, loader: 'js' }));
    },
  };
}

async function loadModule(path: string): Promise<unknown> {
  await readText(path); // a clear error for a missing file, before esbuild's
  const esbuild = loadEsbuild();
  let bundle: string;
  try {
    const result = await esbuild.build({
      entryPoints: [path],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
      plugins: [selfPlugin()],
    });
    bundle = result.outputFiles[0]!.text;
  } catch (error) {
    const errors = (error as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors ?? [];
    const lines = errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : `${path}: ${e.text}`));
    throw new SpecLoadError(lines.length > 0 ? lines.join('\n') : `${path}: ${(error as Error).message}`);
  }
  let module: { default?: unknown };
  try {
    module = (await importModule(`data:text/javascript;base64,${Buffer.from(bundle).toString('base64')}`)) as { default?: unknown };
  } catch (error) {
    throw new SpecLoadError(`${path}: the module failed while loading: ${(error as Error).message}`);
  }
  if (module.default === undefined) {
    throw new SpecLoadError(`${path}: no default export; end the file with 'export default defineContainer({...})'`);
  }
  return module.default;
}

/** Reads a spec file into a plain object; validation is a separate step. */
export async function loadSpecFile(file: string): Promise<unknown> {
  const path = resolve(file);
  const extension = extname(path).toLowerCase();
  if (extension === '.json') return loadJson(path);
  if (extension === '.yaml' || extension === '.yml') return loadYaml(path);
  if (MODULE_EXTENSIONS.has(extension)) return loadModule(path);
  throw new SpecLoadError(`${file}: unknown spec format '${extension || '(none)'}'; use one of ${SPEC_EXTENSIONS.join(' ')}`);
}
