/**
 * Writing results: stdout, or a file replaced atomically (a temporary file in the same folder,
 * then rename), so that a failed build never leaves half a script behind. Synchronous calls:
 * one small file, and no node:fs/promises to load at every start of the command line.
 */
import { chmodSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The result could not be written (a missing folder, no permission): exit status 1. */
export class OutputError extends Error {}

export async function writeOutput(text: string, file: string | undefined, options: { executable: boolean }): Promise<void> {
  if (file === undefined || file === '-') {
    process.stdout.write(text);
    return;
  }
  const temporary = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, text, { mode: options.executable ? 0o755 : 0o644 });
    chmodSync(temporary, options.executable ? 0o755 : 0o644); // the umask may have narrowed it
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new OutputError(`cannot write ${file}: ${(error as Error).message}`);
  }
}
