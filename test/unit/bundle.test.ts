/**
 * The bundled command line (dist/cli.cjs running dist/bundle.js with its code cache
 * dist/bundle.cache, all made by scripts/bundle.mjs): its precompiled templates give, for every
 * fixture and example and every target, the same bytes as the library compiling templates/ at
 * run time; the `unshared` command run from the bundle builds TypeScript, JSON and YAML specs,
 * refuses invalid ones as the library does, and knows its version; and a code cache that is
 * missing, made for another bundle, damaged or refused by V8 is not used, changes nothing in
 * what the command does, and is written afresh by it.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { join } from 'node:path';
import { compile, TARGETS, type Target } from '../../src/compile.js';
import { BUNDLE_FILE, CACHE_FILE, loadBundle, type CacheState } from '../../src/cli/code-cache.js';
import { loadSpecFile } from '../../src/spec/load.js';
import { REPO_ROOT, repoRelative, run, specFixtures } from './support.js';

const DIST = join(REPO_ROOT, 'dist');
const CLI = join(DIST, 'cli.cjs');
const GENERATED = readFileSync(join(REPO_ROOT, 'generated', 'build-container.sh'), 'utf8');

type Compile = typeof compile;
type Library = { compile: Compile };

const importModule = (specifier: string): Promise<unknown> => import(specifier);

/** The target's text, or the message of its refusal (both must agree between the two builds). */
function outcome(compileWith: Compile, spec: unknown, target: Target): string {
  try {
    return compileWith(spec, { target });
  } catch (error) {
    // The bundle has its own copy of TargetError's class: known by its message.
    if (error instanceof Error && error.message.startsWith('unshared: cannot build the ')) return `refused: ${error.message}`;
    throw error;
  }
}

describe('bundle', () => {
  test('precompiled templates render what the library renders, for every spec and target', async () => {
    const bundled = loadBundle<Library>(DIST, importModule).library;
    const specs = [...specFixtures('valid'), ...specFixtures('equivalent'), join(REPO_ROOT, 'examples', 'build-container.ts')];
    let compared = 0;
    for (const file of specs) {
      const spec = await loadSpecFile(file);
      for (const target of Object.keys(TARGETS) as Target[]) {
        assert.equal(outcome(bundled.compile, spec, target), outcome(compile, spec, target), `${repoRelative(file)} --target ${target}`);
        compared++;
      }
    }
    assert.ok(compared >= 5 * Object.keys(TARGETS).length, `only ${compared} comparisons`);
  });

  test('the command builds a TypeScript spec (importing unshared: the bundle itself), JSON and YAML', () => {
    for (const example of ['build-container.ts', 'build-container.json', 'build-container.yaml']) {
      const result = run(process.execPath, [CLI, 'build', join('examples', example)], { cwd: REPO_ROOT });
      assert.equal(result.status, 0, `${example}: ${result.stderr.toString()}`);
      assert.equal(result.stdout.toString(), GENERATED, example);
    }
  });

  test('--version is the package version', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
    const result = run(process.execPath, [CLI, '--version']);
    assert.equal(result.stdout.toString().trim(), pkg.version);
    assert.equal(pkg.bin.unshared, 'dist/cli.cjs');
  });

  test('an invalid spec fails with status 2 and the problems of its .errors.txt', () => {
    const fixture = specFixtures('invalid')[0]!;
    const result = run(process.execPath, [CLI, 'build', repoRelative(fixture)], { cwd: REPO_ROOT });
    assert.equal(result.status, 2);
    assert.equal(result.stderr.toString(), readFileSync(fixture.replace(/\.(json|ya?ml)$/, '.errors.txt'), 'utf8'));
    assert.equal(result.stdout.toString(), '');
  });
});

describe('code cache', () => {
  // Copies of dist/'s bundle in a folder under dist/, so that yaml and esbuild resolve from the
  // repository's node_modules as they do for dist/ itself; removed afterwards.
  const copies: string[] = [];
  after(() => {
    for (const dir of copies) rmSync(dir, { recursive: true, force: true });
  });

  function copyOfDist(options: { cache: boolean }): string {
    const dir = mkdtempSync(join(DIST, 'code-cache-test-'));
    copies.push(dir);
    for (const file of ['cli.cjs', BUNDLE_FILE, ...(options.cache ? [CACHE_FILE] : [])]) copyFileSync(join(DIST, file), join(dir, file));
    return dir;
  }

  function state(dir: string): CacheState {
    return loadBundle(dir, importModule).cache;
  }

  /** The copied command builds the example to the bytes of generated/, and says nothing else. */
  function assertBuilds(dir: string): void {
    for (const example of ['build-container.json', 'build-container.ts']) {
      const result = run(process.execPath, [join(dir, 'cli.cjs'), 'build', join('examples', example)], { cwd: REPO_ROOT });
      assert.equal(result.stderr, '', example);
      assert.equal(result.status, 0, example);
      assert.equal(result.stdout.toString(), GENERATED, example);
    }
  }

  /** The cache file split as code-cache.ts writes it: its header's fields, and V8's data. */
  function parts(dir: string): { fields: string[]; data: Buffer } {
    const raw = readFileSync(join(dir, CACHE_FILE));
    const newline = raw.indexOf(10);
    return { fields: raw.toString('latin1', 0, newline).split(' '), data: raw.subarray(newline + 1) };
  }

  test('the bundle is named by the SHA-256 of its text on its first line, and the build cache is for it', () => {
    const source = readFileSync(join(DIST, BUNDLE_FILE), 'utf8');
    const newline = source.indexOf('\n');
    const id = createHash('sha256').update(source.slice(newline + 1)).digest('hex');
    assert.equal(source.slice(0, newline), `// unshared bundle ${id}`);
    assert.deepEqual(parts(DIST).fields.slice(0, 3), ['unshared-code-cache', '1', id]);
    assert.equal(state(DIST), 'used');
  });

  test('missing: the command works without it, and leaves one for the next start', () => {
    const dir = copyOfDist({ cache: false });
    assert.equal(state(dir), 'missing');
    assertBuilds(dir);
    assert.ok(existsSync(join(dir, CACHE_FILE)), 'no cache written after the run');
    assert.equal(state(dir), 'used');
    assertBuilds(dir);
  });

  test('stale: a cache made for another bundle is not used, and is replaced', () => {
    const dir = copyOfDist({ cache: true });
    // Another build of the bundle: one more statement, so another id (and another length).
    const source = readFileSync(join(dir, BUNDLE_FILE), 'utf8');
    const body = `${source.slice(source.indexOf('\n') + 1)};\n`;
    writeFileSync(join(dir, BUNDLE_FILE), `// unshared bundle ${createHash('sha256').update(body).digest('hex')}\n${body}`);
    assert.equal(state(dir), 'stale');
    assertBuilds(dir);
    assert.equal(state(dir), 'used');
  });

  test('corrupt: damaged data (which V8 would take, and crash on or run) is not given to V8', () => {
    const dir = copyOfDist({ cache: true });
    const raw = readFileSync(join(dir, CACHE_FILE));
    for (const at of [raw.length - 10, Math.floor(raw.length / 2)]) raw.writeUInt8(raw.readUInt8(at) ^ 0x55, at);
    writeFileSync(join(dir, CACHE_FILE), raw);
    assert.equal(state(dir), 'corrupt');
    assertBuilds(dir);
    assert.equal(state(dir), 'used');
  });

  test("rejected: V8 refuses a cache of another V8 (its version hash changed), and the command works", () => {
    const dir = copyOfDist({ cache: true });
    const { fields, data } = parts(dir);
    // V8's header: a magic number, then the hash of the V8 version that made the data.
    data.writeUInt32LE(data.readUInt32LE(4) ^ 0xffff, 4);
    const crc = (zlibCrc32(data) >>> 0).toString(16).padStart(8, '0');
    writeFileSync(join(dir, CACHE_FILE), Buffer.concat([Buffer.from(`${fields.slice(0, 3).join(' ')} ${crc}\n`, 'latin1'), data]));
    assert.equal(state(dir), 'rejected');
    assertBuilds(dir);
    assert.equal(state(dir), 'used');
  });

  test('rejected: another V8 flag (as NODE_OPTIONS may set) makes V8 refuse the cache; the output is the same', () => {
    const dir = copyOfDist({ cache: true });
    const before = readFileSync(join(dir, CACHE_FILE));
    const result = run(process.execPath, ['--max-semi-space-size=32', join(dir, 'cli.cjs'), 'build', join('examples', 'build-container.json')], { cwd: REPO_ROOT });
    assert.equal(result.stderr, '');
    assert.equal(result.status, 0);
    assert.equal(result.stdout.toString(), GENERATED);
    // The cache was written again, for that flag: this process (without it) refuses it.
    assert.notDeepEqual(readFileSync(join(dir, CACHE_FILE)), before);
    assert.equal(state(dir), 'rejected');
  });
});
