/**
 * Shared helpers for the unit tests: where the repository is, the fixture files, snapshot
 * comparison, and running bash, shellcheck and the built CLI as child processes.
 *
 * Tests run from dist/test/unit (compiled); fixtures, examples, generated/ and templates are read
 * from the repository itself, found by walking up to package.json.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'templates'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root (package.json) above the tests');
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot();
export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');
/** The built CLI entry point (make build puts it there). */
export const CLI_BIN = join(REPO_ROOT, 'dist', 'src', 'cli', 'bin.js');

/** `test/fixtures/invalid/x.json`: a repository-relative path with forward slashes. */
export function repoRelative(path: string): string {
  return relative(REPO_ROOT, path).split(sep).join('/');
}

const SPEC_FILE = /\.(json|ya?ml)$/;

/** The spec files (JSON, YAML) of a fixture folder, sorted, as absolute paths. */
export function specFixtures(folder: 'valid' | 'invalid' | 'equivalent'): string[] {
  const dir = join(FIXTURES, folder);
  return readdirSync(dir)
    .filter((f) => SPEC_FILE.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/** `x.json` -> `x`. */
export function fixtureName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1).replace(SPEC_FILE, '');
}

export const UPDATE_SNAPSHOTS = process.env.UPDATE_SNAPSHOTS === '1';

/**
 * Compares text with a snapshot file. With UPDATE_SNAPSHOTS=1 the file is rewritten instead
 * (and the test passes); otherwise a missing file or any difference fails the test.
 */
export function matchSnapshot(actual: string, file: string): void {
  if (UPDATE_SNAPSHOTS) {
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `snapshot ${repoRelative(file)} is missing; run the tests with UPDATE_SNAPSHOTS=1 to create it`);
  const expected = readFileSync(file, 'utf8');
  assert.equal(actual, expected, `output differs from ${repoRelative(file)} (if the change is intended, rerun with UPDATE_SNAPSHOTS=1 and review the diff)`);
}

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs a program to completion. stdin is /dev/null unless `input` is given. (A socket on
 * stdin would make bash read ~/.bashrc, as if started by sshd: callers of bash pass --norc too.)
 */
export function run(
  program: string,
  args: readonly string[],
  options: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string; timeout?: number } = {},
): RunResult {
  const result: SpawnSyncReturns<Buffer> = spawnSync(program, args, {
    input: options.input,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    cwd: options.cwd ?? REPO_ROOT,
    timeout: options.timeout ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr.toString('utf8') };
}

/** bash without any startup file. */
export function bash(args: readonly string[], options: Parameters<typeof run>[2] = {}): RunResult {
  return run('bash', ['--norc', '--noprofile', ...args], options);
}

/** shellcheck at its default severity, with no exclusions, on one file. */
export function shellcheck(file: string): RunResult {
  return run('shellcheck', [file]);
}

/** The built CLI, as a user runs it: `node dist/src/cli/bin.js ARGS`. */
export function cli(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): RunResult & { out: string } {
  const result = run(process.execPath, [CLI_BIN, ...args], options);
  return { ...result, out: result.stdout.toString('utf8') };
}

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence on every run. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
