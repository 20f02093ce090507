/**
 * The command line, run as a user runs it: `node dist/src/cli/bin.js ARGS` in a child process
 * (bin.js sets the exit status to what runCli returns). A few calls of runCli in-process check
 * that it returns the status instead of exiting.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { loadSpecFile } from '../../src/spec/load.js';
import { specJsonSchema } from '../../src/spec/schema.js';
import { formatProblems, validateSpec } from '../../src/spec/validate.js';
import { cli, FIXTURES, REPO_ROOT, repoRelative, specFixtures } from './support.js';

const scratch = mkdtempSync(join(tmpdir(), 'unshared-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
/** A fresh empty folder for one test. */
function folder(): string {
  const dir = join(scratch, `t${counter++}`);
  mkdirSync(dir);
  return dir;
}

const EXAMPLE = 'examples/build-container.ts';
const GENERATED = readFileSync(join(REPO_ROOT, 'generated', 'build-container.sh'), 'utf8');
const INVALID = specFixtures('invalid');
/**
 * What validate/build must print on stderr for an invalid spec given by PATH: the problems as
 * formatProblems writes them with PATH as the source (spec-fixtures.test.ts pins that text in
 * the .errors.txt files; it is computed here so these tests do not depend on the snapshots).
 */
async function problemsOf(path: string): Promise<string> {
  const result = validateSpec(await loadSpecFile(join(REPO_ROOT, path)));
  assert.ok(!result.ok, `${path} should be invalid`);
  return result.ok ? '' : `${formatProblems(result.problems, path)}\n`;
}
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('unshared build', () => {
  test('prints the script on stdout', () => {
    const result = cli(['build', EXAMPLE]);
    assert.equal(result.stderr, '');
    assert.equal(result.status, 0);
    assert.ok(result.out === GENERATED, 'stdout differs from generated/build-container.sh');
  });

  test('-o writes the same bytes to an executable file (mode 0755), and nothing on stdout', () => {
    const dir = folder();
    const out = join(dir, 'web.sh');
    const result = cli(['build', EXAMPLE, '-o', out]);
    assert.equal(result.stderr, '');
    assert.equal(result.status, 0);
    assert.equal(result.out, '');
    assert.equal(statSync(out).mode & 0o777, 0o755);
    assert.ok(readFileSync(out, 'utf8') === cli(['build', EXAMPLE]).out, 'the file differs from what build prints');
    assert.deepEqual(readdirSync(dir), ['web.sh'], 'no temporary file is left behind');
  });

  test('-o replaces an existing file, and makes it executable', () => {
    const dir = folder();
    const out = join(dir, 'web.sh');
    writeFileSync(out, 'old content\n');
    chmodSync(out, 0o600);
    assert.equal(cli(['build', EXAMPLE, '--output', out]).status, 0);
    assert.equal(statSync(out).mode & 0o777, 0o755);
    assert.ok(readFileSync(out, 'utf8') === GENERATED);
  });

  test('-o - prints on stdout', () => {
    const result = cli(['build', EXAMPLE, '-o', '-']);
    assert.equal(result.status, 0);
    assert.ok(result.out === GENERATED);
  });

  test('works from any working directory, with an absolute spec path', () => {
    const result = cli(['build', join(REPO_ROOT, EXAMPLE)], { cwd: folder() });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(result.out === GENERATED);
  });

  test('a JSON and a YAML spec build like the TypeScript one', () => {
    for (const file of specFixtures('equivalent')) {
      const result = cli(['build', file]);
      assert.equal(result.status, 0, result.stderr);
      assert.ok(result.out === GENERATED, repoRelative(file));
    }
  });

  test('an invalid spec: status 2, every problem on stderr, nothing on stdout, and no output file', async () => {
    const dir = folder();
    const out = join(dir, 'never.sh');
    const spec = 'test/fixtures/invalid/everything.json';
    const result = cli(['build', spec, '-o', out]);
    assert.equal(result.status, 2);
    assert.equal(result.out, '');
    assert.equal(result.stderr, await problemsOf(spec));
    assert.equal(existsSync(out), false, 'the output path must not exist after a failed build');
    assert.deepEqual(readdirSync(dir), [], 'nothing at all is written');
  });

  test('a folder that does not exist: status 1, a clear message, no file', () => {
    const out = join(folder(), 'missing', 'web.sh');
    const result = cli(['build', EXAMPLE, '-o', out]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^unshared: cannot write .*missing\/web\.sh/);
    assert.equal(existsSync(out), false);
  });

  test('a missing spec file: status 2 and a clear message, for every format', () => {
    for (const name of ['nope.json', 'nope.yaml', 'nope.ts']) {
      const result = cli(['build', name], { cwd: folder() });
      assert.equal(result.status, 2, name);
      assert.equal(result.out, '');
      assert.match(result.stderr, new RegExp(`nope\\.${name.split('.')[1]}: no such file\\n$`), result.stderr);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  test('a spec of an unknown format (.txt): status 2, naming the formats it knows', () => {
    const dir = folder();
    writeFileSync(join(dir, 'spec.txt'), 'name: web\n');
    const result = cli(['build', 'spec.txt'], { cwd: dir });
    assert.equal(result.status, 2);
    assert.equal(result.out, '');
    assert.match(result.stderr, /spec\.txt: unknown spec format '\.txt'; use one of \.json \.yaml \.yml \.ts/);
  });

  test('a file that does not parse: status 2, saying where', () => {
    const dir = folder();
    writeFileSync(join(dir, 'bad.json'), '{ "name": "web", }');
    writeFileSync(join(dir, 'dup.yaml'), 'name: a\nname: b\nrootfs: { dir: /x }\n');
    writeFileSync(join(dir, 'bad.ts'), 'export default {{;\n');
    const json = cli(['build', 'bad.json'], { cwd: dir });
    assert.equal(json.status, 2);
    assert.match(json.stderr, /bad\.json: not valid JSON/);
    const yaml = cli(['build', 'dup.yaml'], { cwd: dir });
    assert.equal(yaml.status, 2);
    assert.match(yaml.stderr, /dup\.yaml: not valid YAML: .*unique/);
    const ts = cli(['build', 'bad.ts'], { cwd: dir });
    assert.equal(ts.status, 2);
    assert.match(ts.stderr, /bad\.ts:1:\d+: /);
    for (const result of [json, yaml, ts]) assert.doesNotMatch(result.stderr, /internal error|\n\s+at /);
  });
});

describe('unshared validate', () => {
  test('a good spec: status 0 and "ok"', () => {
    const result = cli(['validate', EXAMPLE, 'test/fixtures/valid/minimal.json']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.out, `${EXAMPLE}: ok\ntest/fixtures/valid/minimal.json: ok\n`);
    assert.equal(result.stderr, '');
  });

  test('a bad spec: status 2 and every problem on stderr, one line each', async () => {
    const spec = 'test/fixtures/invalid/everything.json';
    const result = cli(['validate', spec]);
    assert.equal(result.status, 2);
    assert.equal(result.out, '');
    assert.equal(result.stderr, await problemsOf(spec));
    assert.ok(result.stderr.split('\n').length > 10, 'many problems, all reported');
  });

  test('every invalid fixture at once: each file reported, in order, good ones said ok', async () => {
    const files = INVALID.map(repoRelative);
    const result = cli(['validate', 'test/fixtures/valid/minimal.json', ...files]);
    assert.equal(result.status, 2);
    assert.equal(result.out, 'test/fixtures/valid/minimal.json: ok\n');
    assert.equal(result.stderr, (await Promise.all(files.map(problemsOf))).join(''));
  });

  test('validate has no -o: status 2, and nothing is written', () => {
    const out = join(folder(), 'x.txt');
    const result = cli(['validate', 'test/fixtures/invalid/everything.json', '-o', out]);
    assert.equal(result.status, 2);
    assert.equal(existsSync(out), false);
  });

  test('a missing file among good ones: status 2, the others still checked', () => {
    const result = cli(['validate', 'nope.yaml', EXAMPLE]);
    assert.equal(result.status, 2);
    assert.equal(result.out, `${EXAMPLE}: ok\n`);
    assert.match(result.stderr, /nope\.yaml: no such file/);
  });
});

describe('unshared schema', () => {
  test('prints the JSON Schema, with $schema and properties.name', () => {
    const result = cli(['schema']);
    assert.equal(result.status, 0, result.stderr);
    const schema = JSON.parse(result.out) as { $schema: string; properties: { name: { type: string } } };
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(schema.properties.name.type, 'string');
    assert.deepEqual(schema, specJsonSchema());
    assert.ok(result.out.endsWith('}\n'));
  });

  test('-o writes it to a file that is not executable', () => {
    const out = join(folder(), 'schema.json');
    const result = cli(['schema', '-o', out]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.out, '');
    assert.equal(statSync(out).mode & 0o111, 0);
    assert.equal(readFileSync(out, 'utf8'), cli(['schema']).out);
  });
});

describe('usage', () => {
  test('--help: status 0, usage on stdout', () => {
    for (const args of [['--help'], ['-h'], ['build', '--help'], ['help', 'validate']]) {
      const result = cli(args);
      assert.equal(result.status, 0, args.join(' '));
      assert.match(result.out, /^Usage: unshared/, args.join(' '));
    }
  });

  test('--version prints the package version', () => {
    const result = cli(['--version']);
    assert.equal(result.status, 0);
    assert.equal(result.out, `${VERSION}\n`);
  });

  test('an unknown option: status 2, naming it', () => {
    for (const args of [['--bogus'], ['build', EXAMPLE, '--bogus'], ['build', EXAMPLE, '-x']]) {
      const result = cli(args);
      assert.equal(result.status, 2, args.join(' '));
      assert.equal(result.out, '');
      assert.match(result.stderr, /unshared: unknown option '(--bogus|-x)'/);
    }
  });

  test('an unknown command, a missing argument, or no command at all: status 2', () => {
    const unknown = cli(['frobnicate']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    const missing = cli(['build']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /missing required argument 'spec'/);
    const none = cli([]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /Usage: unshared/);
  });

  test('an unknown target: status 2', () => {
    const result = cli(['build', EXAMPLE, '--target', 'docker']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /docker/);
  });
});

describe('runCli returns the status instead of exiting', () => {
  /** Runs runCli with stderr captured (stdout is left alone: the test runner reports through it). */
  async function runQuiet(args: string[]): Promise<{ status: number; stderr: string }> {
    const chunks: string[] = [];
    const original = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof process.stderr.write;
    try {
      const status = await runCli(args);
      return { status, stderr: chunks.join('') };
    } finally {
      process.stderr.write = original;
    }
  }

  test('0 when all is well', async () => {
    const out = join(folder(), 'web.sh');
    const result = await runQuiet(['build', join(REPO_ROOT, EXAMPLE), '-o', out]);
    assert.equal(result.status, 0, result.stderr);
    assert.ok(readFileSync(out, 'utf8') === GENERATED);
  });

  test('2 for a bad spec, with every problem', async () => {
    const spec = join(FIXTURES, 'invalid', 'memory-high.json');
    const result = await runQuiet(['build', spec, '-o', join(folder(), 'x.sh')]);
    assert.equal(result.status, 2);
    assert.equal(result.stderr, `${spec}: limits.memoryHigh: memoryHigh must not be above memory\n`);
  });

  test('2 for a missing file', async () => {
    const result = await runQuiet(['validate', join(scratch, 'missing.json')]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /missing\.json: no such file/);
  });
});
