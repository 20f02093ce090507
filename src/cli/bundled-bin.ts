/**
 * The `unshared` command as installed (package.json's bin: dist/cli.cjs, made from this file by
 * scripts/bundle.mjs): runs the bundled command line (dist/bundle/) with its code caches (see
 * ./code-cache.ts). CommonJS, so that Node starts it without setting up its ES module loader,
 * which only a TypeScript spec needs (through the import() given to the bundle here).
 */
import { join } from 'node:path';
import { Bundles, BUNDLE_DIR, MAIN_BUNDLE } from './code-cache.js';

/** Set by Node for CommonJS: this file's folder (dist/). */
declare const __dirname: string;

// `unshared build x.ts | head` closes the pipe early: that is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const bundles = new Bundles(join(__dirname, BUNDLE_DIR), (specifier) => import(specifier));
const { runCli } = bundles.load(MAIN_BUNDLE).library as { runCli(argv: string[]): Promise<number> };
void runCli(process.argv.slice(2)).then((status) => {
  bundles.refresh();
  process.exitCode = status;
  // The command has done all its work (its files are written synchronously), but the event
  // loop's first turn would still run the garbage collection V8 scheduled meanwhile (a
  // 'Scavenge ... task' in --trace-gc, 3 to 15 ms here) for a process about to end. Exit now,
  // unless output is still queued for a pipe that takes it asynchronously (macOS).
  if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit();
});
