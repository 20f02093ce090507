/**
 * Reading spec files: a TypeScript spec anywhere on disk, outside any project, that imports
 * 'unshared' (bundled by esbuild with 'unshared' resolved to this package); JSON and YAML; and
 * the errors for files that cannot be read or parsed.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { compile } from '../../src/compile.js';
import { loadSpecFile, SpecLoadError } from '../../src/spec/load.js';
import { cli, REPO_ROOT } from './support.js';

const outside = realpathSync(mkdtempSync(join(tmpdir(), 'unshared-spec-')));
after(() => rmSync(outside, { recursive: true, force: true }));

const SPEC = {
  name: 'outside',
  rootfs: { dir: '/srv/rootfs/outside' },
  command: ['/bin/echo', "it's $(not) run"],
  env: { GREETING: 'hello', PATH: '/bin' },
  limits: { memory: '64m', pids: 10 },
};

function write(name: string, text: string): string {
  const file = join(outside, name);
  writeFileSync(file, text);
  return file;
}

async function assertLoadError(file: string, message: RegExp): Promise<void> {
  await assert.rejects(loadSpecFile(file), (error: unknown) => {
    assert.ok(error instanceof SpecLoadError, `expected a SpecLoadError, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

describe('a TypeScript spec outside the repository', () => {
  test('the temporary folder is outside the repository and has no node_modules or package.json', () => {
    assert.ok(relative(REPO_ROOT, outside).startsWith('..'), `${outside} is inside ${REPO_ROOT}`);
  });

  test("`import { defineContainer } from 'unshared'` resolves to this package", async () => {
    const file = write(
      'web.ts',
      [
        "import { defineContainer, type ContainerSpecInput } from 'unshared';",
        '',
        'const env: Record<string, string> = { GREETING: "hello", PATH: "/bin" };',
        `const spec: ContainerSpecInput = ${JSON.stringify({ ...SPEC, env: undefined })};`,
        'export default defineContainer({ ...spec, env });',
        '',
      ].join('\n'),
    );
    const loaded = await loadSpecFile(file);
    assert.deepEqual(JSON.parse(JSON.stringify(loaded)), SPEC);
  });

  test('it compiles to the same script as the same object', async () => {
    const file = write('same.ts', `import { defineContainer } from 'unshared';\nexport default defineContainer(${JSON.stringify(SPEC)});\n`);
    assert.ok(compile(await loadSpecFile(file)) === compile(SPEC));
  });

  test('a spec may import its own helpers, relative to itself', async () => {
    mkdirSync(join(outside, 'lib'), { recursive: true });
    write('lib/common.ts', "export const rootfs = { dir: '/srv/rootfs/shared' } as const;\nexport function named(n: string) { return `app-${n}`; }\n");
    const file = write('helper.ts', "import { defineContainer } from 'unshared';\nimport { rootfs, named } from './lib/common';\nexport default defineContainer({ name: named('x'), rootfs });\n");
    assert.deepEqual(await loadSpecFile(file), { name: 'app-x', rootfs: { dir: '/srv/rootfs/shared' } });
  });

  test('the library used by the spec is the very package loading it', async () => {
    const file = write('identity.ts', "import * as unshared from 'unshared';\nexport default { name: typeof unshared.compile, rootfs: { dir: typeof unshared.defineContainer } };\n");
    assert.deepEqual(await loadSpecFile(file), { name: 'function', rootfs: { dir: 'function' } });
  });

  test('JavaScript modules (.mjs) load the same way', async () => {
    const file = write('web.mjs', `import { defineContainer } from 'unshared';\nexport default defineContainer(${JSON.stringify(SPEC)});\n`);
    assert.deepEqual(await loadSpecFile(file), SPEC);
  });

  test('the CLI builds it from that folder', () => {
    write('cli.ts', `import { defineContainer } from 'unshared';\nexport default defineContainer(${JSON.stringify(SPEC)});\n`);
    const result = cli(['build', 'cli.ts'], { cwd: outside });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(result.out === compile(SPEC));
  });

  test('no default export: a SpecLoadError that says what to write', async () => {
    await assertLoadError(write('nodefault.ts', "export const spec = { name: 'x' };\n"), /no default export; end the file with 'export default defineContainer/);
  });

  test('a syntax error: a SpecLoadError with file:line:column', async () => {
    await assertLoadError(write('syntax.ts', "import { defineContainer } from 'unshared';\nexport default defineContainer({ name: 'x', });;\nconst = 3;\n"), /syntax\.ts:3:\d+: /);
  });

  test('an import that does not exist: a SpecLoadError naming it', async () => {
    await assertLoadError(write('badimport.ts', "import { x } from './nowhere';\nexport default x;\n"), /nowhere/);
  });

  test('a module that throws while loading: a SpecLoadError', async () => {
    await assertLoadError(write('throws.ts', "throw new Error('boom');\nexport default {};\n"), /throws\.ts: the module failed while loading: boom/);
  });
});

describe('JSON and YAML specs', () => {
  test('JSON and YAML give the same object', async () => {
    const json = write('a.json', JSON.stringify(SPEC, null, 2));
    const yaml = write(
      'a.yaml',
      [
        'name: outside',
        'rootfs: { dir: /srv/rootfs/outside }',
        'command: [/bin/echo, "it\'s $(not) run"]',
        'env:',
        '  GREETING: hello',
        '  PATH: /bin',
        'limits:',
        '  memory: 64m',
        '  pids: 10',
        '',
      ].join('\n'),
    );
    const yml = write('a.yml', `# the .yml extension too\n${JSON.stringify(SPEC)}\n`);
    assert.deepEqual(await loadSpecFile(json), SPEC);
    assert.deepEqual(await loadSpecFile(yaml), SPEC);
    assert.deepEqual(await loadSpecFile(yml), SPEC);
  });

  test('YAML keeps strings as strings where YAML 1.1 would not (no, on, 0755)', async () => {
    const file = write('strings.yaml', 'name: web\nrootfs: { dir: /x }\nenv:\n  A: "no"\n  B: "0755"\nmounts:\n  - { type: tmpfs, target: /t, mode: "0755" }\n');
    assert.deepEqual(await loadSpecFile(file), { name: 'web', rootfs: { dir: '/x' }, env: { A: 'no', B: '0755' }, mounts: [{ type: 'tmpfs', target: '/t', mode: '0755' }] });
  });

  test('duplicate keys in YAML are an error, not a silent override', async () => {
    await assertLoadError(write('dup.yaml', 'name: a\nname: b\n'), /dup\.yaml: not valid YAML/);
  });

  test('malformed JSON and YAML: a SpecLoadError naming the file', async () => {
    await assertLoadError(write('bad.json', '{ "name": '), /bad\.json: not valid JSON/);
    await assertLoadError(write('bad.yaml', 'name: [unclosed\n'), /bad\.yaml: not valid YAML/);
  });

  test('missing files and unknown extensions', async () => {
    await assertLoadError(join(outside, 'missing.json'), /missing\.json: no such file/);
    await assertLoadError(join(outside, 'missing.ts'), /missing\.ts: no such file/);
    await assertLoadError(write('spec.txt', '{}'), /unknown spec format '\.txt'/);
    await assertLoadError(write('Makefile', '{}'), /unknown spec format '\(none\)'/);
  });

  test('the extension is case-insensitive', async () => {
    assert.deepEqual(await loadSpecFile(write('UPPER.JSON', JSON.stringify(SPEC))), SPEC);
  });
});
