#!/usr/bin/env node
// Bundles the command line for a fast cold start (make build runs this after tsc):
//
//   dist/unshared.mjs  the library and runCli in one ES module, with every target's templates
//                      precompiled and Handlebars' runtime in place of its compiler
//   dist/cli.mjs       the `unshared` command (package.json's bin): bin.ts over unshared.mjs
//
// Loading ~60 files from node_modules and compiling the templates at every run cost most of
// the time of `unshared build`; one file and precompiled templates leave mostly Node's own start.
// A TypeScript spec's `import 'unshared'` resolves to dist/unshared.mjs, the module already
// loaded. esbuild stays outside (a native binary, loaded only for .ts specs), and so does yaml.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import Handlebars from 'handlebars';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
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
    // Precompiled templates need only the runtime (a tenth of Handlebars, no parser).
    build.onResolve({ filter: /^handlebars$/ }, (args) => build.resolve('handlebars/runtime', { kind: args.kind, resolveDir: args.resolveDir }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  legalComments: 'none',
  minify: true,
  define: { __UNSHARED_BUNDLED__: 'true', __UNSHARED_VERSION__: JSON.stringify(pkg.version) },
  // CommonJS packages inside an ES module bundle call require() for Node's built-ins.
  banner: { js: "import { createRequire as __unsharedRequire } from 'node:module';\nconst require = __unsharedRequire(import.meta.url);" },
};

await esbuild.build({
  ...common,
  stdin: {
    contents: "export * from './src/index.ts';\nexport { runCli } from './src/cli/main.ts';\n",
    resolveDir: root,
    sourcefile: 'unshared-bundle.ts',
    loader: 'ts',
  },
  outfile: join(root, 'dist', 'unshared.mjs'),
  // yaml is loaded from node_modules when first needed (src/yaml.ts).
  external: ['esbuild', 'yaml'],
  plugins: [bundlePlugin],
});

await esbuild.build({
  ...common,
  banner: {},
  entryPoints: [join(root, 'src', 'cli', 'bin.ts')],
  outfile: join(root, 'dist', 'cli.mjs'),
  plugins: [
    {
      name: 'unshared-cli',
      setup(build) {
        build.onResolve({ filter: /^\.\/main\.js$/ }, () => ({ path: './unshared.mjs', external: true }));
      },
    },
  ],
});
