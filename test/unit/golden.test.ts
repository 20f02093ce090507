/**
 * Golden tests: generated/ is what the compiler makes of examples/, byte for byte; compiling is
 * deterministic; the same spec as TypeScript, JSON and YAML gives the same script; and every
 * script, committed or compiled from a fixture, passes `bash -n` and shellcheck (default
 * severity, no exclusions).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { compile } from '../../src/compile.js';
import { loadSpecFile } from '../../src/spec/load.js';
import { specJsonSchema } from '../../src/spec/schema.js';
import { bash, REPO_ROOT, FIXTURES, fixtureName, repoRelative, shellcheck, specFixtures } from './support.js';

const EXAMPLES = join(REPO_ROOT, 'examples');
const GENERATED = join(REPO_ROOT, 'generated');

const exampleSpecs = readdirSync(EXAMPLES).filter((f) => f.endsWith('.ts')).sort();
const generatedScripts = readdirSync(GENERATED).filter((f) => f.endsWith('.sh')).sort();

async function compileFile(file: string): Promise<string> {
  return compile(await loadSpecFile(file), { source: file });
}

const scratch = mkdtempSync(join(tmpdir(), 'unshared-golden-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The scripts that must pass bash -n and shellcheck: generated/*.sh and one per valid fixture. */
async function scriptsToLint(): Promise<{ label: string; file: string }[]> {
  const scripts = generatedScripts.map((f) => ({ label: `generated/${f}`, file: join(GENERATED, f) }));
  for (const fixture of [...specFixtures('valid'), ...specFixtures('equivalent')]) {
    const file = join(scratch, `${basename(fixture)}.sh`);
    writeFileSync(file, await compileFile(fixture), { mode: 0o755 });
    scripts.push({ label: `compiled from ${repoRelative(fixture)}`, file });
  }
  return scripts;
}

describe('generated/ matches examples/', () => {
  test('there are examples, and each has its generated script', () => {
    assert.ok(exampleSpecs.length > 0, 'examples/*.ts');
    for (const spec of exampleSpecs) {
      assert.ok(existsSync(join(GENERATED, spec.replace(/\.ts$/, '.sh'))), `generated/${spec.replace(/\.ts$/, '.sh')} is missing: run \`make generate\``);
    }
  });

  test('every generated script comes from an example (none is left over)', () => {
    const names = new Set(exampleSpecs.map((f) => f.replace(/\.ts$/, '')));
    for (const script of generatedScripts) {
      assert.ok(names.has(script.replace(/\.sh$/, '')), `generated/${script} has no examples/*.ts: remove it or add its spec`);
    }
  });

  for (const spec of exampleSpecs) {
    const name = spec.replace(/\.ts$/, '');
    test(`examples/${spec} compiles to generated/${name}.sh byte for byte`, async () => {
      const expected = join(GENERATED, `${name}.sh`);
      if (!existsSync(expected)) assert.fail(`generated/${name}.sh is missing: run \`make generate\``);
      const actual = await compileFile(join(EXAMPLES, spec));
      assert.ok(
        actual === readFileSync(expected, 'utf8'),
        `generated/${name}.sh is stale: it differs from what examples/${spec} compiles to now. Run \`make generate\` and commit the result.`,
      );
    });

    // Other forms of the same example (examples/NAME.json, .yaml) must give the same bytes.
    for (const other of readdirSync(EXAMPLES).filter((f) => f !== spec && f.replace(/\.(json|ya?ml)$/, '') === name).sort()) {
      test(`examples/${other} compiles to the same bytes as examples/${spec}`, async () => {
        assert.ok((await compileFile(join(EXAMPLES, other))) === (await compileFile(join(EXAMPLES, spec))), `examples/${other} and examples/${spec} differ`);
      });
    }
  }

  test('generated scripts are executable', () => {
    for (const script of generatedScripts) {
      assert.equal(statSync(join(GENERATED, script)).mode & 0o111, 0o111, `generated/${script} is not executable (chmod +x)`);
    }
  });
});

describe('schema/ matches the spec', () => {
  test('schema/unshared.schema.json is what `unshared schema` prints', () => {
    const file = join(REPO_ROOT, 'schema', 'unshared.schema.json');
    assert.ok(existsSync(file), 'schema/unshared.schema.json is missing: run `make generate`');
    assert.ok(
      readFileSync(file, 'utf8') === `${JSON.stringify(specJsonSchema(), null, 2)}\n`,
      'schema/unshared.schema.json is stale: run `make generate` and commit the result',
    );
  });
});

describe('compiling is deterministic', () => {
  test('the same spec twice gives the same bytes, whatever was compiled in between', async () => {
    const files = [...exampleSpecs.map((f) => join(EXAMPLES, f)), ...specFixtures('valid')];
    const first = await Promise.all(files.map(compileFile));
    const second = await Promise.all([...files].reverse().map(compileFile));
    second.reverse();
    files.forEach((file, i) => assert.ok(first[i] === second[i], `${repoRelative(file)} compiled differently the second time`));
  });

  test('the script depends on the spec: different specs give different scripts', async () => {
    const scripts = await Promise.all(specFixtures('valid').map(compileFile));
    assert.equal(new Set(scripts).size, scripts.length);
  });
});

describe('one spec, three formats', () => {
  test('seed.json, seed.yaml and examples/build-container.ts are the same object', async () => {
    const ts = await loadSpecFile(join(EXAMPLES, 'build-container.ts'));
    assert.deepEqual(await loadSpecFile(join(FIXTURES, 'equivalent', 'seed.json')), ts);
    assert.deepEqual(await loadSpecFile(join(FIXTURES, 'equivalent', 'seed.yaml')), ts);
  });

  test('seed.json, seed.yaml and examples/build-container.ts compile to identical bytes', async () => {
    const fromTs = await compileFile(join(EXAMPLES, 'build-container.ts'));
    for (const file of specFixtures('equivalent')) {
      assert.ok((await compileFile(file)) === fromTs, `${repoRelative(file)} compiles to other bytes than examples/build-container.ts`);
    }
    assert.deepEqual(specFixtures('equivalent').map(fixtureName), ['seed', 'seed']);
  });

  test('the source label does not reach the script', async () => {
    const spec = await loadSpecFile(join(FIXTURES, 'equivalent', 'seed.json'));
    assert.ok(compile(spec, { source: 'a.json' }) === compile(spec, { source: 'b.yaml' }));
  });
});

describe('every script is valid bash and shellcheck-clean', async () => {
  const scripts = await scriptsToLint();

  test('the scripts to check are there', () => {
    assert.ok(scripts.length >= generatedScripts.length + specFixtures('valid').length);
  });

  for (const { label, file } of scripts) {
    test(`bash -n: ${label}`, () => {
      const result = bash(['-n', file]);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stderr, '');
    });

    test(`shellcheck: ${label}`, () => {
      const result = shellcheck(file);
      assert.equal(result.stdout.toString('utf8') + result.stderr, '', `shellcheck ${file}`);
      assert.equal(result.status, 0);
    });

    test(`no placeholder leaked into the script: ${label}`, () => {
      const text = readFileSync(file, 'utf8');
      assert.ok(text.startsWith('#!/usr/bin/env bash\n'), 'the first line is the bash shebang');
      assert.ok(text.endsWith('\n'), 'the script ends with a newline');
      for (const leak of ['undefined', '[object Object]', 'NaN', '{{', '}}']) {
        const line = text.split('\n').findIndex((l) => l.includes(leak));
        assert.equal(line, -1, `'${leak}' on line ${line + 1}: ${text.split('\n')[line]}`);
      }
    });
  }
});
