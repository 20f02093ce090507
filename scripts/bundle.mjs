#!/usr/bin/env node
// Bundles the command line for a fast cold start (make build runs this after tsc):
//
//   dist/bundle/unshared.js  the library and runCli in one classic script (a function of module,
//                            require and host, see src/cli/code-cache.ts), with every target's
//                            templates precompiled and Handlebars' runtime in place of its compiler
//   dist/bundle/yaml.js      the YAML library likewise, run only when a run first needs YAML
//   dist/bundle/*.cache      V8's code cache of each, made after a warm-up run of the command here
//   dist/cli.cjs             the `unshared` command (package.json's bin): src/cli/bundled-bin.ts,
//                            which runs the bundles with their caches
//
// Loading ~60 files from node_modules and compiling the templates at every run cost most of
// the time of `unshared build`; one file and precompiled templates left mostly Node's own start
// and the parsing and compiling of the bundle, which the code cache takes off the start too.
// YAML is a bundle of its own so that a JSON or TypeScript build neither reads it nor its cache.
// A TypeScript spec's `import 'unshared'` gets the library already loaded (src/spec/load.ts).
// esbuild stays outside (a native program it talks to, loaded only for .ts specs).
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import Handlebars from 'handlebars';
import { bundleIdLine, Bundles, BUNDLE_DIR, MAIN_BUNDLE } from '../dist/src/cli/code-cache.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const bundleDir = join(dist, BUNDLE_DIR);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
// The same options as src/render/engine.ts's COMPILE_OPTIONS (a unit test compares outputs).
const COMPILE_OPTIONS = { noEscape: true, strict: true };

/** src/render/precompiled.ts as it is in the bundle: every target's templates precompiled. */
function precompiledModule() {
  const templates = join(root, 'templates');
  const targets = readdirSync(templates)
    .filter((name) => statSync(join(templates, name)).isDirectory())
    .sort();
  const entries = targets.map((target) => {
    const dir = join(templates, target);
    const files = readdirSync(dir).filter((file) => file.endsWith('.hbs')).sort();
    const spec = (file) => Handlebars.precompile(readFileSync(join(dir, file), 'utf8'), COMPILE_OPTIONS);
    const partials = files
      .filter((file) => file !== 'main.hbs')
      .map((file) => `${JSON.stringify(file.slice(0, -'.hbs'.length))}: ${spec(file)}`);
    return `${JSON.stringify(target)}: { main: ${spec('main.hbs')}, partials: { ${partials.join(',\n')} } }`;
  });
  return `export const PRECOMPILED = {\n${entries.join(',\n')}\n};\n`;
}

const bundlePlugin = {
  name: 'unshared-bundle',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]render[\\/]precompiled\.ts$/ }, () => ({ contents: precompiledModule(), loader: 'js' }));
    // A script's own import() has no module loader: the entry's import() is given to the bundle.
    build.onLoad({ filter: /[\\/]src[\\/]import-module\.ts$/ }, () => ({ contents: 'export const importModule = (specifier) => __unsharedHost.importModule(specifier);', loader: 'js' }));
    // src/lazy.ts's `() => requireHere('yaml')` becomes the host's yaml bundle, loaded then.
    build.onLoad({ filter: /[\\/]src[\\/]lazy\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const contents = source.replace("=> requireHere('yaml')", "=> __unsharedHost.requireBundle('yaml')");
      if (contents === source) throw new Error("src/lazy.ts has no `=> requireHere('yaml')` for the yaml bundle");
      return { contents, loader: 'ts' };
    });
    // Precompiled templates need only the runtime (a tenth of Handlebars, no parser).
    build.onResolve({ filter: /^handlebars$/ }, (args) => build.resolve('handlebars/runtime', { kind: args.kind, resolveDir: args.resolveDir }));
    // commander loads node:child_process (and with it Node's sockets) for its executable
    // subcommands, which unshared has none of: its one call, spawn, loads the module if ever made.
    build.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'unshared-lazy' } : undefined);
    build.onLoad({ filter: /^child_process$/, namespace: 'unshared-lazy' }, () => ({
      contents: "module.exports = { spawn: (...args) => require('node:child_process').spawn(...args) };",
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  legalComments: 'none',
  minify: true,
};

/**
 * Writes dist/bundle/NAME.js: CommonJS inside a function that src/cli/code-cache.ts calls with
 * module, require (for Node's built-ins) and host; strict, as the ES modules it is made of are;
 * named on its first line by the SHA-256 of the rest.
 */
async function writeBundle(name, options) {
  const result = await esbuild.build({
    ...common,
    ...options,
    write: false,
    outfile: join(bundleDir, `${name}.js`),
    banner: { js: "(function (module, require, __unsharedHost) {\n'use strict';" },
    footer: { js: '})' },
  });
  const body = result.outputFiles[0].text;
  writeFileSync(join(bundleDir, `${name}.js`), bundleIdLine(createHash('sha256').update(body).digest('hex')) + body);
}

rmSync(bundleDir, { recursive: true, force: true });
mkdirSync(bundleDir, { recursive: true });
await writeBundle(MAIN_BUNDLE, {
  stdin: {
    contents: "export * from './src/index.ts';\nexport { runCli } from './src/cli/main.ts';\n",
    resolveDir: root,
    sourcefile: 'unshared-bundle.ts',
    loader: 'ts',
  },
  define: {
    __UNSHARED_BUNDLED__: 'true',
    __UNSHARED_VERSION__: JSON.stringify(pkg.version),
    'import.meta.url': '__unsharedHost.url',
  },
  // esbuild is loaded from node_modules for TypeScript specs (a native program it talks to).
  external: ['esbuild'],
  plugins: [bundlePlugin],
});
await writeBundle('yaml', {
  stdin: { contents: "module.exports = require('yaml');\n", resolveDir: root, sourcefile: 'yaml-bundle.js', loader: 'js' },
});

await esbuild.build({
  ...common,
  entryPoints: [join(root, 'src', 'cli', 'bundled-bin.ts')],
  outfile: join(dist, 'cli.cjs'),
  banner: { js: '#!/usr/bin/env node' },
});
chmodSync(join(dist, 'cli.cjs'), 0o755);

// The code caches: each bundle's bytecode after a run of what a cold start mostly does (the
// example built from each of its forms, and compiled for every target that takes it), so that
// those functions need no compiling at a start either.
const bundles = new Bundles(bundleDir, (specifier) => import(specifier));
const { compile, loadSpecFile, runCli, TARGETS } = bundles.load(MAIN_BUNDLE).library;
const out = mkdtempSync(join(tmpdir(), 'unshared-bundle-'));
try {
  for (const example of ['build-container.json', 'build-container.yaml', 'build-container.ts']) {
    const file = join(root, 'examples', example);
    const status = await runCli(['build', file, '-o', join(out, 'container.sh')]);
    if (status !== 0) throw new Error(`the bundle could not build examples/${example} (exit status ${status})`);
    const spec = await loadSpecFile(file);
    for (const target of Object.keys(TARGETS)) {
      try {
        compile(spec, { target });
      } catch {
        // a target that refuses the example (kubernetes wants an image): its refusal is compiled too
      }
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
for (const bundle of bundles.loaded.values()) bundles.save(bundle);
