/**
 * The bundled command line (dist/cli.mjs over dist/unshared.mjs, made by scripts/bundle.mjs):
 * its precompiled templates give, for every fixture and example and every target, the same
 * bytes as the library compiling templates/ at run time; and the `unshared` command run from
 * the bundle builds TypeScript, JSON and YAML specs, and knows its version.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compile, TARGETS, type Target } from '../../src/compile.js';
import { loadSpecFile } from '../../src/spec/load.js';
import { REPO_ROOT, repoRelative, run, specFixtures } from './support.js';

const BUNDLE = join(REPO_ROOT, 'dist', 'unshared.mjs');
const CLI = join(REPO_ROOT, 'dist', 'cli.mjs');
const GENERATED = readFileSync(join(REPO_ROOT, 'generated', 'build-container.sh'), 'utf8');

type Compile = typeof compile;

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
    const bundled = (await import(pathToFileURL(BUNDLE).href)) as { compile: Compile };
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
    assert.equal(pkg.bin.unshared, 'dist/cli.mjs');
  });

  test('an invalid spec fails with status 2 and the problems of its .errors.txt', () => {
    const fixture = specFixtures('invalid')[0]!;
    const result = run(process.execPath, [CLI, 'build', repoRelative(fixture)], { cwd: REPO_ROOT });
    assert.equal(result.status, 2);
    assert.equal(result.stderr.toString(), readFileSync(fixture.replace(/\.(json|ya?ml)$/, '.errors.txt'), 'utf8'));
    assert.equal(result.stdout.toString(), '');
  });
});
