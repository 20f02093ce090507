/**
 * The `unshared` command as installed (package.json's bin: dist/cli.cjs, made from this file by
 * scripts/bundle.mjs): runs the bundled command line (dist/bundle.js) with its code cache (see
 * ./code-cache.ts). CommonJS, so that Node starts it without setting up its ES module loader,
 * which only a TypeScript spec needs (through the import() given to the bundle here).
 */
import { loadBundle, refreshCodeCache } from './code-cache.js';

/** Set by Node for CommonJS: this file's folder, where the bundle is (dist/). */
declare const __dirname: string;

// `unshared build x.ts | head` closes the pipe early: that is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const bundle = loadBundle<{ runCli(argv: string[]): Promise<number> }>(__dirname, (specifier) => import(specifier));
void bundle.library.runCli(process.argv.slice(2)).then((status) => {
  refreshCodeCache(bundle);
  process.exitCode = status;
});
