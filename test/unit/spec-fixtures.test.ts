/**
 * The fixture specs under test/fixtures:
 *
 * - valid/*.json|yaml must pass validation;
 * - invalid/NAME.json|yaml must fail, printing exactly the lines in invalid/NAME.errors.txt:
 *   formatProblems() with the fixture's repository-relative path as the source, plus the final
 *   newline, i.e. what `unshared validate test/fixtures/invalid/NAME.json` prints on stderr when
 *   run from the repository root. UPDATE_SNAPSHOTS=1 rewrites the .errors.txt files.
 *
 * The JSON Schema from specJsonSchema() is checked against the same fixtures: it accepts every
 * valid one, and rejects each invalid one unless its rule is one JSON Schema (as zod emits it)
 * cannot express; those are listed below, and must really be accepted by the schema, so that
 * the list stays true.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { containerSpecSchema, specJsonSchema } from '../../src/spec/schema.js';
import { loadSpecFile } from '../../src/spec/load.js';
import { formatProblems, validateSpec } from '../../src/spec/validate.js';
import { checkJsonSchema, type JsonSchema } from './json-schema.js';
import { FIXTURES, fixtureName, matchSnapshot, repoRelative, specFixtures } from './support.js';

const validFixtures = specFixtures('valid');
const invalidFixtures = specFixtures('invalid');

describe('valid fixtures', () => {
  test('there are valid fixtures, in JSON and in YAML', () => {
    assert.ok(validFixtures.some((f) => f.endsWith('.json')));
    assert.ok(validFixtures.some((f) => f.endsWith('.yaml')));
  });
  for (const file of validFixtures) {
    test(`${repoRelative(file)} is valid`, async () => {
      const result = validateSpec(await loadSpecFile(file));
      assert.ok(result.ok, result.ok ? '' : formatProblems(result.problems, repoRelative(file)));
    });
  }
});

describe('invalid fixtures: every problem, exactly as printed', () => {
  test('every invalid fixture has its .errors.txt, and every .errors.txt its fixture', () => {
    assert.ok(invalidFixtures.length >= 10, 'the invalid fixtures are there');
    const names = new Set(invalidFixtures.map(fixtureName));
    assert.equal(names.size, invalidFixtures.length, 'fixture names are unique (no x.json beside x.yaml)');
    const snapshots = readdirSync(join(FIXTURES, 'invalid')).filter((f) => f.endsWith('.errors.txt'));
    for (const snapshot of snapshots) {
      assert.ok(names.has(snapshot.slice(0, -'.errors.txt'.length)), `${snapshot} has no fixture beside it`);
    }
  });

  for (const file of invalidFixtures) {
    const source = repoRelative(file);
    test(`${source} fails with the problems in ${fixtureName(file)}.errors.txt`, async () => {
      const result = validateSpec(await loadSpecFile(file));
      assert.equal(result.ok, false, `${source} should be invalid`);
      if (result.ok) return;
      for (const problem of result.problems) {
        assert.ok(problem.path.length > 0 && problem.message.length > 0, `a problem without path or message: ${JSON.stringify(problem)}`);
      }
      matchSnapshot(`${formatProblems(result.problems, source)}\n`, join(FIXTURES, 'invalid', `${fixtureName(file)}.errors.txt`));
    });
  }
});

/**
 * Invalid fixtures whose every problem is a rule the generated JSON Schema cannot carry: zod's
 * refine() checks (NUL bytes, surrogates, absolute paths, cross-field rules, size ranges) do
 * not appear in it.
 */
const NOT_IN_JSON_SCHEMA: Record<string, string> = {
  'cgroup-parent': "'..' components are a refine() check",
  'memory-high': 'memoryHigh <= memory compares two fields',
  'mount-targets': 'managed and duplicate targets are cross-field checks',
  'name-not-hostname': 'the name as a hostname depends on other fields',
  namespaces: 'duplicates and the required mount namespace are refine() checks (uniqueItems/contains are not emitted)',
  'nul-bytes': 'NUL bytes are a refine() check',
  'path-components': "normalised paths are a refine() check",
  'relative-paths': 'absolute paths are a refine() check',
  'size-overflow': 'the size in bytes is computed by parseSize',
  'unpaired-surrogates': 'well-formed Unicode is a refine() check',
  userns: "'user' against other namespaces, network, mounts, user and groups are cross-field checks",
  'userns-maps': 'overlapping ranges, host root and the sum of id and size are refine() checks',
};

describe('the JSON Schema from specJsonSchema()', () => {
  const schema = specJsonSchema() as JsonSchema & Record<string, unknown>;

  test('is draft 2020-12, describes an object, and requires name and rootfs', () => {
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(schema.type, 'object');
    assert.deepEqual([...(schema.required as string[])].sort(), ['name', 'rootfs']);
    assert.equal(schema.additionalProperties, false);
  });

  test('has a property for every field of the zod schema, and no other', () => {
    const properties = Object.keys(schema.properties as object).sort();
    assert.deepEqual(properties, Object.keys(containerSpecSchema.shape).sort());
  });

  test('carries the enum of namespaces and the patterns of names', () => {
    const properties = schema.properties as Record<string, Record<string, unknown>>;
    assert.deepEqual((properties.namespaces!.items as { enum: string[] }).enum, ['pid', 'net', 'mount', 'uts', 'ipc', 'user', 'cgroup', 'time']);
    assert.equal(typeof properties.name!.pattern, 'string');
    assert.equal(typeof properties.hostname!.pattern, 'string');
    assert.equal(typeof properties.cgroupParent!.pattern, 'string');
  });

  test('the checker used here rejects what it should (it can fail)', () => {
    assert.deepEqual(checkJsonSchema(schema, { name: 'ok', rootfs: { dir: '/x' } }), []);
    assert.notDeepEqual(checkJsonSchema(schema, { name: 'ok' }), []);
    assert.notDeepEqual(checkJsonSchema(schema, { name: 'ok', rootfs: { dir: '/x' }, bogus: 1 }), []);
    assert.notDeepEqual(checkJsonSchema(schema, { name: 'ok', rootfs: { dir: '/x' }, namespaces: ['pid', 'nope'] }), []);
    assert.notDeepEqual(checkJsonSchema(schema, { name: '-bad', rootfs: { dir: '/x' } }), []);
    assert.notDeepEqual(checkJsonSchema(schema, { name: 'ok', rootfs: { dir: '/x', tar: '/y' } }), []);
    assert.notDeepEqual(checkJsonSchema(schema, { name: 'ok', rootfs: { dir: '/x' }, limits: { memory: '12 parsecs' } }), []);
    assert.notDeepEqual(checkJsonSchema(schema, { name: 'ok', rootfs: { dir: '/x' }, mounts: [{ type: 'nfs' }] }), []);
    assert.notDeepEqual(checkJsonSchema(schema, { name: 'ok', rootfs: { dir: '/x' }, stopTimeout: 1.5 }), []);
  });

  for (const file of validFixtures) {
    test(`accepts ${repoRelative(file)}`, async () => {
      assert.deepEqual(checkJsonSchema(schema, await loadSpecFile(file)), []);
    });
  }

  for (const file of invalidFixtures) {
    const name = fixtureName(file);
    const reason = NOT_IN_JSON_SCHEMA[name];
    if (reason === undefined) {
      test(`rejects ${repoRelative(file)}`, async () => {
        assert.notDeepEqual(checkJsonSchema(schema, await loadSpecFile(file)), [], `the JSON Schema accepts ${repoRelative(file)}`);
      });
    } else {
      test(`accepts ${repoRelative(file)}: JSON Schema cannot express it (${reason})`, async () => {
        assert.deepEqual(
          checkJsonSchema(schema, await loadSpecFile(file)),
          [],
          `the JSON Schema now rejects ${name}: remove it from NOT_IN_JSON_SCHEMA`,
        );
      });
    }
  }

  test('every name in NOT_IN_JSON_SCHEMA is an invalid fixture', () => {
    for (const name of Object.keys(NOT_IN_JSON_SCHEMA)) {
      assert.ok(existsSync(join(FIXTURES, 'invalid', `${name}.json`)) || existsSync(join(FIXTURES, 'invalid', `${name}.yaml`)), name);
    }
  });
});
