/**
 * The bundled command line (dist/cli.cjs running dist/bundle/unshared.js, and yaml.js when YAML
 * is needed, with their code caches; all made by scripts/bundle.mjs): its precompiled templates
 * give, for every fixture and example and every target, the same bytes as the library compiling
 * templates/ at run time; the `unshared` command run from the bundle builds TypeScript, JSON and
 * YAML specs, refuses invalid ones as the library does, and knows its version; and a code cache
 * that is missing, made for another bundle, damaged or refused by V8 is not used, changes
 * nothing in what the command does, and is written afresh by it.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { join } from 'node:path';
import { compile, TARGETS, type Target } from '../../src/compile.js';
import { Bundles, BUNDLE_DIR, MAIN_BUNDLE, type CacheState } from '../../src/cli/code-cache.js';
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
    const bundled = new Bundles(join(DIST, BUNDLE_DIR), importModule).load(MAIN_BUNDLE).library as Library;
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

  test("holds zod/mini and English only: neither classic zod's schema classes nor zod's other locales", () => {
    // Every schema is made at each start: classic zod's cost a cold build ~22 ms (README, Performance).
    const bundle = readFileSync(join(DIST, BUNDLE_DIR, `${MAIN_BUNDLE}.js`), 'utf8');
    assert.ok(bundle.includes('"ZodMiniObject"'), 'zod/mini is not in the bundle');
    assert.ok(!bundle.includes('"ZodObject"'), "classic zod's ZodObject is in the bundle: import zod/mini, not zod");
    assert.ok(bundle.includes('Too small: expected'), "zod's English messages are not in the bundle");
    assert.ok(!bundle.includes('Zeichen'), "zod's German locale is in the bundle: its locales are to stay out");
  });

  test('an invalid spec fails with status 2 and the problems of its .errors.txt', () => {
    const fixture = specFixtures('invalid')[0]!;
    const result = run(process.execPath, [CLI, 'build', repoRelative(fixture)], { cwd: REPO_ROOT });
    assert.equal(result.status, 2);
    assert.equal(result.stderr.toString(), readFileSync(fixture.replace(/\.(json|ya?ml)$/, '.errors.txt'), 'utf8'));
    assert.equal(result.stdout.toString(), '');
  });

  test('every invalid fixture is refused with the problems of its .errors.txt, and nothing is written', () => {
    const fixtures = specFixtures('invalid');
    const result = run(process.execPath, [CLI, 'validate', ...fixtures.map((f) => repoRelative(f))], { cwd: REPO_ROOT });
    assert.equal(result.status, 2);
    const expected = fixtures.map((f) => readFileSync(f.replace(/\.(json|ya?ml)$/, '.errors.txt'), 'utf8').replace(/\n$/, ''));
    assert.equal(result.stderr, `${expected.join('\n')}\n`);
    assert.equal(result.stdout.toString(), '');
    const out = mkdtempSync(join(DIST, 'refused-'));
    try {
      const build = run(process.execPath, [CLI, 'build', repoRelative(fixtures[0]!), '-o', join(out, 'x.sh')], { cwd: REPO_ROOT });
      assert.equal(build.status, 2);
      assert.deepEqual(readdirSync(out), []);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('code cache', () => {
  // Copies of dist/'s command and bundles in a folder under dist/, so that esbuild resolves from
  // the repository's node_modules as it does for dist/ itself; removed afterwards.
  const copies: string[] = [];
  after(() => {
    for (const dir of copies) rmSync(dir, { recursive: true, force: true });
  });

  function copyOfDist(options: { caches: boolean }): string {
    const dir = mkdtempSync(join(DIST, 'code-cache-test-'));
    copies.push(dir);
    cpSync(join(DIST, 'cli.cjs'), join(dir, 'cli.cjs'));
    cpSync(join(DIST, BUNDLE_DIR), join(dir, BUNDLE_DIR), { recursive: true, filter: (file) => options.caches || !file.endsWith('.cache') });
    return dir;
  }

  const file = (dir: string, name: string, extension: 'js' | 'cache') => join(dir, BUNDLE_DIR, `${name}.${extension}`);

  /** What a start would make of the cache of bundle `name` in the folder. */
  function state(dir: string, name = MAIN_BUNDLE): CacheState {
    return new Bundles(join(dir, BUNDLE_DIR), importModule).load(name).cache;
  }

  /** The copied command builds the example (JSON, YAML, TypeScript) to generated/'s bytes, and says nothing else. */
  function assertBuilds(dir: string): void {
    for (const example of ['build-container.json', 'build-container.yaml', 'build-container.ts']) {
      const result = run(process.execPath, [join(dir, 'cli.cjs'), 'build', join('examples', example)], { cwd: REPO_ROOT });
      assert.equal(result.stderr, '', example);
      assert.equal(result.status, 0, example);
      assert.equal(result.stdout.toString(), GENERATED, example);
    }
  }

  /** A cache file split as code-cache.ts writes it: its header's fields, and V8's data. */
  function parts(cache: string): { fields: string[]; data: Buffer } {
    const raw = readFileSync(cache);
    const newline = raw.indexOf(10);
    return { fields: raw.toString('latin1', 0, newline).split(' '), data: raw.subarray(newline + 1) };
  }

  test('each bundle is named by the SHA-256 of its text on its first line, and the build made a cache for it', () => {
    for (const name of [MAIN_BUNDLE, 'yaml']) {
      const source = readFileSync(file(DIST, name, 'js'), 'utf8');
      const newline = source.indexOf('\n');
      const id = createHash('sha256').update(source.slice(newline + 1)).digest('hex');
      assert.equal(source.slice(0, newline), `// unshared bundle ${id}`, name);
      assert.deepEqual(parts(file(DIST, name, 'cache')).fields.slice(0, 3), ['unshared-code-cache', '1', id], name);
      assert.equal(state(DIST, name), 'used', name);
    }
  });

  test('missing: the command works without caches, and leaves them for the next start', () => {
    const dir = copyOfDist({ caches: false });
    assert.equal(state(dir), 'missing');
    assert.equal(state(dir, 'yaml'), 'missing');
    assertBuilds(dir);
    for (const name of [MAIN_BUNDLE, 'yaml']) {
      assert.ok(existsSync(file(dir, name, 'cache')), `no ${name}.cache written after the runs`);
      assert.equal(state(dir, name), 'used', name);
    }
    assertBuilds(dir);
  });

  test('stale: a cache made for another bundle is not used, and is replaced', () => {
    const dir = copyOfDist({ caches: true });
    // Another build of the bundle: one more statement, so another id (and another length).
    const source = readFileSync(file(dir, MAIN_BUNDLE, 'js'), 'utf8');
    const body = `${source.slice(source.indexOf('\n') + 1)};\n`;
    writeFileSync(file(dir, MAIN_BUNDLE, 'js'), `// unshared bundle ${createHash('sha256').update(body).digest('hex')}\n${body}`);
    assert.equal(state(dir), 'stale');
    assertBuilds(dir);
    assert.equal(state(dir), 'used');
  });

  test('corrupt: damaged data (which V8 would take, and crash on or run) is not given to V8', () => {
    const dir = copyOfDist({ caches: true });
    for (const name of [MAIN_BUNDLE, 'yaml']) {
      const raw = readFileSync(file(dir, name, 'cache'));
      for (const at of [raw.length - 10, Math.floor(raw.length / 2)]) raw.writeUInt8(raw.readUInt8(at) ^ 0x55, at);
      writeFileSync(file(dir, name, 'cache'), raw);
      assert.equal(state(dir, name), 'corrupt', name);
    }
    assertBuilds(dir);
    assert.equal(state(dir), 'used');
    assert.equal(state(dir, 'yaml'), 'used');
  });

  test('rejected: V8 refuses a cache of another V8 (its version hash changed), and the command works', () => {
    const dir = copyOfDist({ caches: true });
    const { fields, data } = parts(file(dir, MAIN_BUNDLE, 'cache'));
    // V8's header: a magic number, then the hash of the V8 version that made the data.
    data.writeUInt32LE(data.readUInt32LE(4) ^ 0xffff, 4);
    const crc = (zlibCrc32(data) >>> 0).toString(16).padStart(8, '0');
    writeFileSync(file(dir, MAIN_BUNDLE, 'cache'), Buffer.concat([Buffer.from(`${fields.slice(0, 3).join(' ')} ${crc}\n`, 'latin1'), data]));
    assert.equal(state(dir), 'rejected');
    assertBuilds(dir);
    assert.equal(state(dir), 'used');
  });

  test('rejected: another V8 flag (as NODE_OPTIONS may set) makes V8 refuse the cache; the output is the same', () => {
    const dir = copyOfDist({ caches: true });
    const before = readFileSync(file(dir, MAIN_BUNDLE, 'cache'));
    const result = run(process.execPath, ['--max-semi-space-size=32', join(dir, 'cli.cjs'), 'build', join('examples', 'build-container.json')], { cwd: REPO_ROOT });
    assert.equal(result.stderr, '');
    assert.equal(result.status, 0);
    assert.equal(result.stdout.toString(), GENERATED);
    // The cache was written again, for that flag: this process (without it) refuses it.
    assert.notDeepEqual(readFileSync(file(dir, MAIN_BUNDLE, 'cache')), before);
    assert.equal(state(dir), 'rejected');
  });
});
