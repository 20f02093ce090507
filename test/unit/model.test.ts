/**
 * resolveModel: the decisions taken between a valid spec and the templates.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveModel, type ContainerModel } from '../../src/model/model.js';
import { shellQuote } from '../../src/render/quote.js';
import { DEFAULT_PATH, type ContainerSpecInput } from '../../src/spec/schema.js';
import { formatProblems, validateSpec } from '../../src/spec/validate.js';

const BASE = { name: 'web', rootfs: { dir: '/srv/rootfs/web' } } satisfies ContainerSpecInput;

function model(input: Partial<ContainerSpecInput> = {}): ContainerModel {
  const result = validateSpec({ ...BASE, ...input });
  if (!result.ok) assert.fail(formatProblems(result.problems));
  return resolveModel(result.spec);
}

const toolNames = (m: ContainerModel) => m.tools.map((t) => t.name);

describe('resolveModel', () => {
  test('the hostname defaults to the name when the uts namespace is on', () => {
    assert.equal(model().hostname, 'web');
    assert.equal(model({ hostname: 'box.example' }).hostname, 'box.example');
  });

  test('no hostname without the uts namespace', () => {
    assert.equal(model({ namespaces: ['mount', 'pid'] }).hostname, null);
    assert.equal(model({ name: 'not_a_hostname', namespaces: ['mount'] }).hostname, null);
  });

  test("PATH defaults to Docker's, first, when env does not set it", () => {
    assert.deepEqual(model().env, [{ name: 'PATH', value: DEFAULT_PATH }]);
    assert.deepEqual(model({ env: { B: '2', A: '1' } }).env, [
      { name: 'PATH', value: DEFAULT_PATH },
      { name: 'B', value: '2' },
      { name: 'A', value: '1' },
    ]);
  });

  test("env's own PATH is kept, in the spec's order, and not doubled", () => {
    assert.deepEqual(model({ env: { LANG: 'C', PATH: '/bin', Z: '' } }).env, [
      { name: 'LANG', value: 'C' },
      { name: 'PATH', value: '/bin' },
      { name: 'Z', value: '' },
    ]);
    assert.deepEqual(model({ env: { PATH: '' } }).env, [{ name: 'PATH', value: '' }]);
  });

  test('namespaces as a flag map', () => {
    assert.deepEqual(model().namespaces, { pid: true, net: true, mount: true, uts: true, ipc: true, user: false, cgroup: true, time: false });
    assert.deepEqual(model({ namespaces: ['time', 'mount'] }).namespaces, { pid: false, net: false, mount: true, uts: false, ipc: false, user: false, cgroup: false, time: true });
  });

  test('unshare arguments: one flag per namespace, in a fixed order, then private propagation (no --fork: the script forks PID 1)', () => {
    const tail = ['--propagation', 'private'];
    assert.deepEqual(model().unshareArgs, ['--mount', '--pid', '--uts', '--ipc', '--net', '--cgroup', ...tail]);
    assert.deepEqual(model({ namespaces: ['mount'] }).unshareArgs, ['--mount', ...tail]);
    // the order of the spec's list does not matter
    assert.deepEqual(model({ namespaces: ['time', 'cgroup', 'net', 'ipc', 'uts', 'pid', 'mount'] }).unshareArgs, [
      '--mount', '--pid', '--uts', '--ipc', '--net', '--cgroup', '--time', ...tail,
    ]);
    assert.deepEqual(model({ namespaces: ['pid', 'mount', 'uts', 'ipc'] }).unshareArgs, ['--mount', '--pid', '--uts', '--ipc', ...tail]);
  });

  test('tmpfs mounts: nosuid,nodev, mode 1777 unless given, size in bytes', () => {
    const m = model({
      mounts: [
        { type: 'tmpfs', target: '/tmp' },
        { type: 'tmpfs', target: '/run', size: '64m', mode: '755' },
        { type: 'tmpfs', target: '/big', size: 1536 },
      ],
    });
    assert.deepEqual(m.mounts, [
      { origin: 'mounts[0]', target: '/tmp', fs: { type: 'tmpfs', options: 'nosuid,nodev,mode=1777' } },
      { origin: 'mounts[1]', target: '/run', fs: { type: 'tmpfs', options: 'nosuid,nodev,mode=755,size=67108864' } },
      { origin: 'mounts[2]', target: '/big', fs: { type: 'tmpfs', options: 'nosuid,nodev,mode=1777,size=1536' } },
    ]);
  });

  test('sysfs mounts: read-only on /sys unless told otherwise', () => {
    const m = model({ mounts: [{ type: 'sysfs' }, { type: 'sysfs', target: '/host-sys', readonly: false }, { type: 'sysfs', target: '/ro', readonly: true }] });
    assert.deepEqual(m.mounts, [
      { origin: 'mounts[0]', target: '/sys', fs: { type: 'sysfs', options: 'ro,nosuid,nodev,noexec' } },
      { origin: 'mounts[1]', target: '/host-sys', fs: { type: 'sysfs', options: 'rw,nosuid,nodev,noexec' } },
      { origin: 'mounts[2]', target: '/ro', fs: { type: 'sysfs', options: 'ro,nosuid,nodev,noexec' } },
    ]);
  });

  test('mounts: up to the last sysfs each in its own mount run, the rest in the hardening\'s run, in order', () => {
    const targets = (steps: { target: string }[]) => steps.map((s) => s.target);
    const none = model({ mounts: [{ type: 'tmpfs', target: '/a' }, { type: 'bind', source: '/srv', target: '/b' }] });
    assert.deepEqual(targets(none.mountsAlone), []);
    assert.deepEqual(targets(none.mountsInHardening), ['/a', '/b']);
    const mixed = model({
      mounts: [{ type: 'tmpfs', target: '/a' }, { type: 'sysfs' }, { type: 'tmpfs', target: '/sys/x' }, { type: 'bind', source: '/srv', target: '/c' }],
    });
    assert.deepEqual(targets(mixed.mountsAlone), ['/a', '/sys']);
    assert.deepEqual(targets(mixed.mountsInHardening), ['/sys/x', '/c']);
    assert.deepEqual([...mixed.mountsAlone, ...mixed.mountsInHardening], mixed.mounts);
  });

  test("bind mounts: read-write unless told otherwise, with the target's parent", () => {
    const m = model({
      mounts: [
        { type: 'bind', source: '/srv/data', target: '/var/lib/data' },
        { type: 'bind', source: '/etc/resolv.conf', target: '/resolv.conf', readonly: true },
        { type: 'bind', source: '/srv/a b', target: "/it's/here" },
      ],
    });
    assert.deepEqual(m.mounts, [
      { origin: 'mounts[0]', target: '/var/lib/data', bind: { source: '/srv/data', readonly: false, options: '', targetParent: '/var/lib' } },
      { origin: 'mounts[1]', target: '/resolv.conf', bind: { source: '/etc/resolv.conf', readonly: true, options: 'ro', targetParent: '/' } },
      { origin: 'mounts[2]', target: "/it's/here", bind: { source: '/srv/a b', readonly: false, options: '', targetParent: "/it's" } },
    ]);
  });

  test('bind flags and named volumes: one options string for mount(8); a volume under the data dir', () => {
    const m = model({
      mounts: [
        { type: 'bind', source: '/srv/bin', target: '/opt', readonly: true, nosuid: true, nodev: true, noexec: true },
        { type: 'volume', name: 'db-data', target: '/var/lib/db', nodev: true },
      ],
    });
    assert.deepEqual(m.mounts, [
      { origin: 'mounts[0]', target: '/opt', bind: { source: '/srv/bin', readonly: true, options: 'ro,nosuid,nodev,noexec', targetParent: '/' } },
      {
        origin: 'mounts[1]', target: '/var/lib/db', volume: 'db-data',
        bind: { source: '/var/lib/unshared/volumes/db-data', readonly: false, options: 'nodev', targetParent: '/var/lib' },
      },
    ]);
    assert.deepEqual(m.volumes, ['db-data']);
  });

  test('storage: a kept writable layer by default; readonlyRootfs, volatile and autoRemove', () => {
    assert.deepEqual(model({}).storage, { readonly: false, volatile: false, hostLayer: true, keepLayer: true });
    assert.deepEqual(model({ autoRemove: true }).storage, { readonly: false, volatile: false, hostLayer: true, keepLayer: false });
    assert.deepEqual(model({ readonlyRootfs: true }).storage, { readonly: true, volatile: false, hostLayer: false, keepLayer: false });
    assert.deepEqual(model({ volatile: true }).storage, { readonly: false, volatile: true, hostLayer: false, keepLayer: false });
  });

  test('mounts keep the order of the spec', () => {
    const m = model({ mounts: [{ type: 'tmpfs', target: '/b' }, { type: 'sysfs' }, { type: 'bind', source: '/a', target: '/a' }] });
    assert.deepEqual(m.mounts.map((s) => s.target), ['/b', '/sys', '/a']);
  });

  test('tar is a required tool only for a tar rootfs', () => {
    assert.ok(!toolNames(model()).includes('tar'));
    assert.ok(toolNames(model({ rootfs: { tar: '/images/web.tar.gz' } })).includes('tar'));
  });

  test('ip is a required tool only with a network namespace', () => {
    assert.ok(toolNames(model()).includes('ip'));
    assert.ok(!toolNames(model({ namespaces: ['mount', 'pid', 'uts'] })).includes('ip'));
  });

  test('touch is needed only for bind mounts (a file source needs a file to mount on)', () => {
    assert.ok(!toolNames(model()).includes('touch'));
    assert.ok(toolNames(model({ mounts: [{ type: 'bind', source: '/a', target: '/a' }] })).includes('touch'));
  });

  test('the base tools are always there, each with a package for every distribution family', () => {
    const tools = model({ namespaces: ['mount'] }).tools;
    assert.deepEqual(tools.map((t) => t.name), ['unshare', 'setpriv', 'pivot_root', 'mount', 'umount', 'mkdir', 'rmdir', 'cp', 'ln', 'rm', 'setsid', 'nsenter', 'tail']);
    for (const tool of model({ rootfs: { tar: '/x.tar' }, mounts: [{ type: 'bind', source: '/a', target: '/a' }] }).tools) {
      assert.ok(tool.debian && tool.alpine && tool.rhel, `${tool.name} lacks a package name`);
    }
  });

  test('rootfs, workdir, command, stopTimeout and the cgroup parent pass through', () => {
    const m = model({ rootfs: { tar: '/i.tar' }, workdir: '/app', command: ['/bin/app', '--flag'], stopTimeout: 0, cgroupParent: 'a/b' });
    assert.deepEqual(m.rootfs, { tar: '/i.tar' });
    assert.equal(m.workdir, '/app');
    assert.deepEqual(m.command, ['/bin/app', '--flag']);
    assert.equal(m.stopTimeout, 0);
    assert.equal(m.cgroup.parent, 'a/b');
    assert.ok(new RegExp(m.cgroup.parentPattern).test('a/b'));
    assert.ok(!new RegExp(m.cgroup.parentPattern).test('/a'));
  });

  test('cgroup: v1 writes carry the v1 hierarchy name (io is blkio there)', () => {
    const m = model({ limits: { memory: '64m', io: [{ device: '8:0', readIops: 10 }] } });
    assert.deepEqual(m.cgroup.v1.map((w) => [w.file, w.v1Name]), [
      ['memory.limit_in_bytes', 'memory'],
      ['blkio.throttle.read_iops_device', 'blkio'],
    ]);
    assert.deepEqual(m.cgroup.controllers, [
      { name: 'memory', required: true, v1Name: 'memory' },
      { name: 'cpuacct', required: false, v1Name: 'cpuacct' },
      { name: 'pids', required: false, v1Name: 'pids' },
      { name: 'io', required: true, v1Name: 'blkio' },
    ]);
    assert.deepEqual(m.cgroup.v2.map((w) => w.file), ['memory.max', 'io.max']);
  });

  test('controller names are bare words (the templates place them inside double quotes)', () => {
    const m = model({ limits: { memory: '64m', memoryHigh: '32m', cpus: 1, cpuWeight: 5, pids: 5, io: [{ device: '8:0', readIops: 1 }] } });
    const names = [...m.cgroup.controllers.flatMap((c) => [c.name, c.v1Name]), ...m.cgroup.v1.map((w) => w.controller), ...m.cgroup.v2.map((w) => w.controller)];
    assert.deepEqual([...new Set(names)].sort(), ['blkio', 'cpu', 'cpuacct', 'io', 'memory', 'pids']);
    for (const name of names) assert.equal(shellQuote(name), name);
  });

  test('the model holds no undefined and no NaN anywhere (every value the templates place is real)', () => {
    const m = model({
      hostname: 'h',
      env: { A: 'b' },
      limits: { memory: '1g', memoryHigh: '512m', cpus: 0.5, cpuWeight: 10, pids: 9, io: [{ device: '1:2', readBps: '1m', writeIops: 3 }] },
      mounts: [{ type: 'bind', source: '/a', target: '/b' }, { type: 'tmpfs', target: '/t', size: '1m' }, { type: 'sysfs' }],
    });
    const walk = (value: unknown, path: string): void => {
      assert.notEqual(value, undefined, `${path} is undefined`);
      if (typeof value === 'number') assert.ok(Number.isFinite(value), `${path} is ${value}`);
      if (typeof value === 'string') assert.doesNotMatch(value, /undefined|NaN/, `${path} is ${value}`);
      if (typeof value === 'object' && value !== null) {
        for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
      }
    };
    walk(m, 'model');
  });
});
