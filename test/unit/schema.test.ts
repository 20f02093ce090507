/**
 * The spec schema: defaults for good specs, and for bad ones every problem at once, each with
 * the path of its field. The fixture files under test/fixtures/{valid,invalid} are checked in
 * spec-fixtures.test.ts; these are the rules one at a time.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from '../../src/compile.js';
import { DEFAULT_NAMESPACES, DEFAULT_PATH, NAMESPACES, RESERVED_ENV_NAMES, type ContainerSpec } from '../../src/spec/schema.js';
import { formatPath, formatProblems, SpecError, validateSpec, type SpecProblem } from '../../src/spec/validate.js';

const BASE = { name: 'web', rootfs: { dir: '/srv/rootfs/web' } } as const;

function valid(input: unknown): ContainerSpec {
  const result = validateSpec(input);
  if (!result.ok) assert.fail(`expected a valid spec, got:\n${formatProblems(result.problems)}`);
  return result.spec;
}

function problems(input: unknown): SpecProblem[] {
  const result = validateSpec(input);
  if (result.ok) assert.fail(`expected problems, but the spec is valid: ${JSON.stringify(input)}`);
  return result.problems;
}

/** The problems at one path, as messages. */
function at(list: SpecProblem[], path: string): string[] {
  return list.filter((p) => p.path === path).map((p) => p.message);
}

function assertProblem(input: unknown, path: string, message: RegExp): void {
  const list = problems(input);
  const messages = at(list, path);
  assert.ok(
    messages.some((m) => message.test(m)),
    `expected a problem at ${path} matching ${message}; got:\n${formatProblems(list)}`,
  );
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('validateSpec: good specs', () => {
  test('a minimal spec gets every default', () => {
    const spec = valid({ ...BASE });
    assert.deepEqual(spec.command, ['/bin/sh']);
    assert.equal(spec.workdir, '/');
    assert.deepEqual(spec.namespaces, ['pid', 'mount', 'uts', 'ipc', 'net', 'cgroup']);
    assert.deepEqual(spec.namespaces, DEFAULT_NAMESPACES);
    assert.equal(spec.cgroupParent, 'unshared');
    assert.equal(spec.stopTimeout, 10);
    assert.deepEqual(spec.env, {});
    assert.deepEqual(spec.limits, {});
    assert.deepEqual(spec.mounts, []);
    assert.equal(spec.hostname, undefined);
    assert.deepEqual(spec.rootfs, { dir: '/srv/rootfs/web' });
  });

  test('given values are kept, including falsy ones', () => {
    const spec = valid({
      ...BASE,
      command: ['/bin/true', ''],
      env: { EMPTY: '' },
      workdir: '/app',
      namespaces: ['mount'],
      stopTimeout: 0,
      cgroupParent: 'machine.slice/web',
      limits: { memory: '4m' },
    });
    assert.deepEqual(spec.command, ['/bin/true', '']);
    assert.deepEqual(spec.env, { EMPTY: '' });
    assert.equal(spec.workdir, '/app');
    assert.deepEqual(spec.namespaces, ['mount']);
    assert.equal(spec.stopTimeout, 0);
    assert.equal(spec.cgroupParent, 'machine.slice/web');
  });

  test('defaults are fresh for every spec (no shared mutable default)', () => {
    const a = valid({ ...BASE });
    a.namespaces.push('time');
    a.command.push('-x');
    a.env.X = '1';
    const b = valid({ ...BASE });
    assert.deepEqual(b.namespaces, ['pid', 'mount', 'uts', 'ipc', 'net', 'cgroup']);
    assert.deepEqual(b.command, ['/bin/sh']);
    assert.deepEqual(b.env, {});
    assert.deepEqual(DEFAULT_NAMESPACES, ['pid', 'mount', 'uts', 'ipc', 'net', 'cgroup']);
  });

  test('validation does not modify its input (a deep-frozen spec validates)', () => {
    const input = deepFreeze({
      ...BASE,
      env: { A: 'b' },
      limits: { memory: '128m', io: [{ device: '8:0', readBps: '1m' }] },
      mounts: [{ type: 'tmpfs', target: '/tmp' }, { type: 'sysfs' }],
    });
    const before = JSON.stringify(input);
    valid(input);
    assert.equal(JSON.stringify(input), before);
  });

  test('values on the edges of every range are accepted', () => {
    valid({ ...BASE, name: `a${'b'.repeat(62)}`, hostname: `${'a'.repeat(30)}.${'b'.repeat(33)}` });
    valid({ ...BASE, limits: { cpus: 0.01, cpuWeight: 1, pids: 1, memory: '4m', memoryHigh: '4m' } });
    valid({ ...BASE, limits: { cpus: 1024, cpuWeight: 10000, pids: 4194304, memory: 4 * 1024 * 1024 } });
    valid({ ...BASE, stopTimeout: 3600 });
    valid({ ...BASE, workdir: `/${'a'.repeat(4095)}` });
    valid({ ...BASE, mounts: [{ type: 'tmpfs', target: '/t', mode: '0755', size: 1 }] });
    valid({ ...BASE, namespaces: [...NAMESPACES].filter((ns) => ns !== 'user') });
    valid({ ...BASE, env: { PATH: '/bin', _x: '', lower: 'ok', A1: '1' } });
    valid({ ...BASE, $schema: 'https://example.com/unshared.schema.json' });
  });

  test('a name that is not a hostname is fine when the uts namespace is off or hostname is set', () => {
    valid({ ...BASE, name: 'web_1', namespaces: ['mount', 'pid'] });
    valid({ ...BASE, name: 'web_1', hostname: 'web-1' });
  });
});

describe('validateSpec: each rule reports its field path', () => {
  const cases: [string, unknown, string, RegExp][] = [
    ['memory below 4m', { ...BASE, limits: { memory: '1m' } }, 'limits.memory', /at least 4m/],
    ['memory not a size', { ...BASE, limits: { memory: '12 parsecs' } }, 'limits.memory', /expected a size/],
    ['memoryHigh above memory', { ...BASE, limits: { memory: '128m', memoryHigh: '1g' } }, 'limits.memoryHigh', /must not be above memory/],
    ['a zero tmpfs size', { ...BASE, mounts: [{ type: 'tmpfs', target: '/t', size: '0m' }] }, 'mounts[0].size', /more than 0/],
    ['cpus below 0.01', { ...BASE, limits: { cpus: 0.001 } }, 'limits.cpus', /at least 0\.01/],
    ['cpuWeight 0', { ...BASE, limits: { cpuWeight: 0 } }, 'limits.cpuWeight', /1 to 10000/],
    ['a block device that is not major:minor', { ...BASE, limits: { io: [{ device: '/dev/sda', readIops: 5 }] } }, 'limits.io[0].device', /major:minor/],
    ['an io entry without any cap', { ...BASE, limits: { io: [{ device: '8:0' }] } }, 'limits.io[0]', /at least one of/],
    [
      'a mount target used twice (mounts[2].target)',
      { ...BASE, mounts: [{ type: 'tmpfs', target: '/a' }, { type: 'tmpfs', target: '/b' }, { type: 'bind', source: '/srv', target: '/a' }] },
      'mounts[2].target',
      /already the target of mounts\[0\]/,
    ],
    ['sysfs twice, the default target counting as /sys', { ...BASE, mounts: [{ type: 'sysfs' }, { type: 'tmpfs', target: '/sys' }] }, 'mounts[1].target', /\/sys is already the target of mounts\[0\]/],
    ['a mount on /proc', { ...BASE, mounts: [{ type: 'tmpfs', target: '/proc' }] }, 'mounts[0].target', /\/proc is managed by the script/],
    ['a mount below /proc', { ...BASE, mounts: [{ type: 'tmpfs', target: '/proc/sys' }] }, 'mounts[0].target', /managed by the script/],
    ['a mount on /dev', { ...BASE, mounts: [{ type: 'tmpfs', target: '/dev' }] }, 'mounts[0].target', /managed by the script/],
    ['a mount below /dev', { ...BASE, mounts: [{ type: 'bind', source: '/dev/shm', target: '/dev/shm' }] }, 'mounts[0].target', /managed by the script/],
    ['a mount on /', { ...BASE, mounts: [{ type: 'tmpfs', target: '/' }] }, 'mounts[0].target', /cannot be \//],
    ['an env name with a dash', { ...BASE, env: { 'bad-name': 'x' } }, 'env["bad-name"]', /\[A-Za-z_\]\[A-Za-z0-9_\]\*/],
    ['an env name starting with a digit', { ...BASE, env: { '1X': 'x' } }, 'env["1X"]', /env names must match/],
    ['an empty env name', { ...BASE, env: { '': 'x' } }, 'env[""]', /env names must match/],
    ['an unknown top-level key', { ...BASE, nmae: 'x' }, 'nmae', /unknown field/],
    ['an unknown key in limits', { ...BASE, limits: { memroy: '1g' } }, 'limits.memroy', /unknown field/],
    ['an unknown key in a mount', { ...BASE, mounts: [{ type: 'sysfs', ro: true }] }, 'mounts[0].ro', /unknown field/],
    ['an unknown key in an io entry', { ...BASE, limits: { io: [{ device: '8:0', readIops: 1, iops: 2 }] } }, 'limits.io[0].iops', /unknown field/],
    ['a NUL byte in a command argument', { ...BASE, command: ['/bin/echo', 'a\0b'] }, 'command[1]', /NUL byte/],
    ['a NUL byte in an env value', { ...BASE, env: { A: '\0' } }, 'env.A', /NUL byte/],
    ['a NUL byte in the workdir', { ...BASE, workdir: '/a\0' }, 'workdir', /NUL byte/],
    ['a NUL byte in a bind source', { ...BASE, mounts: [{ type: 'bind', source: '/a\0b', target: '/b' }] }, 'mounts[0].source', /NUL byte/],
    ['a NUL byte in the name', { ...BASE, name: 'a\0' }, 'name', /name must be/],
    ['an unpaired high surrogate', { ...BASE, command: ['\ud800'] }, 'command[0]', /unpaired surrogates/],
    ['an unpaired low surrogate', { ...BASE, env: { A: 'x\udc00' } }, 'env.A', /unpaired surrogates/],
    ['surrogates in the wrong order', { ...BASE, workdir: '/\ude00\ud83d' }, 'workdir', /unpaired surrogates/],
    ['a relative rootfs.dir', { ...BASE, rootfs: { dir: 'srv/rootfs' } }, 'rootfs.dir', /absolute path/],
    ['a relative rootfs.tar', { ...BASE, rootfs: { tar: 'image.tar' } }, 'rootfs.tar', /absolute path/],
    ['a relative workdir', { ...BASE, workdir: 'app' }, 'workdir', /absolute path/],
    ['a relative bind source', { ...BASE, mounts: [{ type: 'bind', source: 'data', target: '/data' }] }, 'mounts[0].source', /absolute path/],
    ['a relative mount target', { ...BASE, mounts: [{ type: 'tmpfs', target: 'tmp' }] }, 'mounts[0].target', /absolute path/],
    ['a .. component', { ...BASE, workdir: '/a/../b' }, 'workdir', /normalised path/],
    ['a trailing ..', { ...BASE, mounts: [{ type: 'bind', source: '/srv/..', target: '/x' }] }, 'mounts[0].source', /normalised path/],
    ['a . component', { ...BASE, rootfs: { dir: '/srv/./rootfs' } }, 'rootfs.dir', /normalised path/],
    ['a doubled slash', { ...BASE, workdir: '//app' }, 'workdir', /normalised path/],
    ['a trailing slash', { ...BASE, mounts: [{ type: 'tmpfs', target: '/tmp/' }] }, 'mounts[0].target', /normalised path/],
    ['a path longer than PATH_MAX', { ...BASE, workdir: `/${'a'.repeat(4096)}` }, 'workdir', /PATH_MAX/],
    ['an empty name', { ...BASE, name: '' }, 'name', /name must be/],
    ['a name starting with a dash', { ...BASE, name: '-web' }, 'name', /name must be/],
    ['a name with a slash', { ...BASE, name: 'a/b' }, 'name', /name must be/],
    ['a name of 64 characters', { ...BASE, name: 'a'.repeat(64) }, 'name', /name must be/],
    ['a name that is .. ', { ...BASE, name: '..' }, 'name', /name must be/],
    ['a hostname with an underscore', { ...BASE, hostname: 'web_1' }, 'hostname', /DNS labels/],
    ['a hostname label ending in a dash', { ...BASE, hostname: 'web-.example' }, 'hostname', /DNS labels/],
    ['a hostname of 65 bytes', { ...BASE, hostname: `${'a'.repeat(32)}.${'b'.repeat(32)}` }, 'hostname', /at most 64 bytes/],
    ['a name that is no hostname, with uts and no hostname', { ...BASE, name: 'web_1' }, 'hostname', /not a valid hostname; set hostname/],
    ['an absolute cgroupParent', { ...BASE, cgroupParent: '/unshared' }, 'cgroupParent', /relative path/],
    ['a cgroupParent with ..', { ...BASE, cgroupParent: 'a/../b' }, 'cgroupParent', /'\.' or '\.\.'/],
    ['a cgroupParent that is .', { ...BASE, cgroupParent: '.' }, 'cgroupParent', /'\.' or '\.\.'/],
    ['a cgroupParent with a space', { ...BASE, cgroupParent: 'a b' }, 'cgroupParent', /relative path/],
    ['a duplicate namespace', { ...BASE, namespaces: ['mount', 'pid', 'pid'] }, 'namespaces[2]', /'pid' is listed twice/],
    ['no mount namespace', { ...BASE, namespaces: ['pid', 'uts'] }, 'namespaces', /add 'mount'/],
    ['an unknown namespace', { ...BASE, namespaces: ['mount', 'network'] }, 'namespaces[1]', /expected one of: pid, net/],
    ['a hostname without the uts namespace', { ...BASE, hostname: 'box', namespaces: ['mount', 'pid'] }, 'hostname', /needs the 'uts' namespace/],
    ['an empty command', { ...BASE, command: [] }, 'command', /at least the program/],
    ['stopTimeout not whole', { ...BASE, stopTimeout: 1.5 }, 'stopTimeout', /whole seconds/],
    ['rootfs with both dir and tar', { ...BASE, rootfs: { dir: '/a', tar: '/b.tar' } }, 'rootfs', /\{ dir: .* \}, \{ tar: .* \}, \{ url, sha256 \}, .* or \{ layers: \[\.\.\.\] \}/],
    ['rootfs empty', { ...BASE, rootfs: {} }, 'rootfs', /\{ dir: .* \}, \{ tar: .* \}, \{ url, sha256 \}, .* or \{ layers: \[\.\.\.\] \}/],
    ['rootfs url with a bad digest', { ...BASE, rootfs: { url: 'https://h/r.tar', sha256: 'nope' } }, 'rootfs.sha256', /64 lowercase hex digits/],
    ['a layer url with a bad digest', { ...BASE, rootfs: { layers: [{ dir: '/a' }, { url: 'https://h/r.tar', sha256: 'A'.repeat(64) }] } }, 'rootfs.layers[1].sha256', /64 lowercase hex digits/],
    ['an oci layout by a relative path', { ...BASE, rootfs: { oci: 'images/busybox' } }, 'rootfs.oci', /absolute path/],
    ['a mount of an unknown type', { ...BASE, mounts: [{ type: 'nfs', target: '/mnt' }] }, 'mounts[0].type', /'bind', 'tmpfs' or 'sysfs'/],
    ['a tmpfs mode that is not octal', { ...BASE, mounts: [{ type: 'tmpfs', target: '/t', mode: '0999' }] }, 'mounts[0].mode', /octal mode/],
    ['a missing name', { rootfs: BASE.rootfs }, 'name', /^is required$/],
  ];
  for (const [what, input, path, message] of cases) {
    test(what, () => assertProblem(input, path, message));
  }

  test('every name bash reserves is refused as an env name', () => {
    const reserved: readonly string[] = RESERVED_ENV_NAMES;
    assert.ok(reserved.includes('UID') && reserved.includes('SHLVL'));
    for (const name of RESERVED_ENV_NAMES) {
      assertProblem({ ...BASE, env: { [name]: 'x' } }, formatPath(['env', name]), /reserved by bash/);
    }
  });

  test('a wrong type is reported as the wrong type, not as a missing field', () => {
    // zod only puts `input` on an issue when asked to (reportInput), so describeIssue's
    // "input === undefined means missing" test sees every wrong type as missing.
    const list = problems({ ...BASE, name: 42, command: 'sh', env: { A: 1 }, stopTimeout: '10', limits: { cpuWeight: 1.5 } });
    for (const path of ['name', 'command', 'env.A', 'stopTimeout', 'limits.cpuWeight']) {
      const messages = at(list, path);
      assert.equal(messages.length, 1, `one problem at ${path}:\n${formatProblems(list)}`);
      assert.doesNotMatch(messages[0]!, /is required/, `${path} is present but of the wrong type:\n${formatProblems(list)}`);
    }
    assert.deepEqual(at(problems({ ...BASE, name: 42 }), 'name'), ['expected name as a string']);
  });

  test('a spec that is not an object says so', () => {
    for (const input of [null, [], 'web', 42, undefined]) {
      const list = problems(input);
      assert.equal(list.length, 1);
      assert.equal(list[0]!.path, '(spec)');
      if (input !== undefined) assert.doesNotMatch(list[0]!.message, /is required/, `input ${JSON.stringify(input)}`);
    }
  });

  test('a range error names the range, not the type', () => {
    // A value of the right type outside its range must not read "expected X as a number".
    const list = problems({ ...BASE, limits: { cpus: 2000, pids: 0 }, stopTimeout: 3601 });
    assert.match(at(list, 'limits.cpus').join('\n'), /1024/);
    assert.match(at(list, 'limits.pids').join('\n'), /at least 1|1 to|positive/);
    assert.match(at(list, 'stopTimeout').join('\n'), /3600/);
  });

  test('sizes too large to be exact (2^53 bytes and above) are refused, not compiled as "undefined"', () => {
    assertProblem({ ...BASE, limits: { memory: '8p' } }, 'limits.memory', /./);
    assertProblem({ ...BASE, limits: { memoryHigh: '9007199254740992' } }, 'limits.memoryHigh', /./);
    assertProblem({ ...BASE, limits: { io: [{ device: '8:0', writeBps: '99999999p' }] } }, 'limits.io[0].writeBps', /./);
    assertProblem({ ...BASE, mounts: [{ type: 'tmpfs', target: '/t', size: '100000000000p' }] }, 'mounts[0].size', /./);
    // The largest exact size is fine.
    valid({ ...BASE, limits: { io: [{ device: '8:0', readBps: '9007199254740991' }] } });
  });
});

describe('validateSpec: every problem at once', () => {
  test('independent field problems are all reported', () => {
    const list = problems({
      name: 'bad name',
      rootfs: { dir: 'relative' },
      workdir: '/a/../b',
      limits: { memory: '1k', cpus: 0 },
      cgroupParent: '/abs',
      command: ['a\0'],
    });
    const paths = list.map((p) => p.path);
    for (const path of ['name', 'rootfs.dir', 'workdir', 'limits.memory', 'limits.cpus', 'cgroupParent', 'command[0]']) {
      assert.ok(paths.includes(path), `missing ${path} in:\n${formatProblems(list)}`);
    }
  });

  test('cross-field rules are still checked when a field has a problem of its own', () => {
    // The namespace and mount-target rules live in the object's superRefine, which zod skips
    // once any field failed with an aborting issue (an invalid env name, an unknown
    // namespace, an unknown mount type...): those problems then appear only on the next run.
    const list = problems({
      ...BASE,
      hostname: 'box',
      env: { 'bad-name': 'x', UID: '0' },
      namespaces: ['pid', 'pid', 'net'],
      mounts: [
        { type: 'tmpfs', target: '/proc' },
        { type: 'tmpfs', target: '/data' },
        { type: 'tmpfs', target: '/data' },
      ],
      extra: true,
    });
    const paths = list.map((p) => p.path);
    for (const path of ['env["bad-name"]', 'env.UID', 'extra', 'namespaces[1]', 'namespaces', 'hostname', 'mounts[0].target', 'mounts[2].target']) {
      assert.ok(paths.includes(path), `missing ${path} in:\n${formatProblems(list)}`);
    }
  });

  test('an unknown namespace does not hide a duplicate one or a missing mount namespace', () => {
    const list = problems({ ...BASE, namespaces: ['pid', 'pid', 'mnt'] });
    const paths = list.map((p) => p.path);
    for (const path of ['namespaces[1]', 'namespaces[2]', 'namespaces']) {
      assert.ok(paths.includes(path), `missing ${path} in:\n${formatProblems(list)}`);
    }
  });

  test('problems are reported once each', () => {
    const list = problems({ ...BASE, env: { 'a-b': '\0' }, mounts: [{ type: 'tmpfs', target: '/proc' }] });
    const lines = list.map((p) => `${p.path}: ${p.message}`);
    assert.equal(new Set(lines).size, lines.length, lines.join('\n'));
  });
});

describe('formatPath and formatProblems', () => {
  test('paths read like the JavaScript that reaches the field', () => {
    assert.equal(formatPath(['limits', 'memory']), 'limits.memory');
    assert.equal(formatPath(['mounts', 2, 'target']), 'mounts[2].target');
    assert.equal(formatPath(['env', 'bad-name']), 'env["bad-name"]');
    assert.equal(formatPath(['env', 'a"b']), 'env["a\\"b"]');
    assert.equal(formatPath(['env', '']), 'env[""]');
    assert.equal(formatPath(['env', '_ok1']), 'env._ok1');
    assert.equal(formatPath([]), '(spec)');
    assert.equal(formatPath([0]), '[0]');
  });

  test('one line per problem: source: path: message', () => {
    const list = [
      { path: 'name', message: 'is required' },
      { path: 'mounts[0].target', message: 'must be an absolute path' },
    ];
    assert.equal(formatProblems(list, 'web.yaml'), 'web.yaml: name: is required\nweb.yaml: mounts[0].target: must be an absolute path');
    assert.equal(formatProblems(list.slice(0, 1)), 'spec: name: is required');
    assert.equal(formatProblems([]), '');
  });

  test('compile throws a SpecError carrying every problem, its message formatted with the source', () => {
    const input = { ...BASE, cgroupParent: '/abs', workdir: 'rel' };
    assert.throws(
      () => compile(input, { source: 'x.json' }),
      (error: unknown) => {
        assert.ok(error instanceof SpecError);
        assert.equal(error.problems.length, 2);
        assert.equal(error.message, formatProblems(error.problems, 'x.json'));
        assert.match(error.message, /^x\.json: cgroupParent: /m);
        assert.match(error.message, /^x\.json: workdir: /m);
        return true;
      },
    );
  });

  test('the PATH default is Docker\'s', () => {
    assert.equal(DEFAULT_PATH, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  });
});
