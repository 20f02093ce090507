/**
 * The OCI target: config.json fields from the model (runc runs it for real in test/bats/oci.bats).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from '../../src/compile.js';
import { TargetError } from '../../src/targets/target.js';

const FULL = {
  name: 'web',
  hostname: 'web-1',
  rootfs: { dir: '/srv/rootfs' },
  command: ['/bin/httpd', '-f'],
  env: { MODE: 'prod' },
  workdir: '/srv',
  user: '1000:1001',
  groups: [5],
  limits: { memory: '64m', memoryHigh: '32m', cpus: 0.5, cpuWeight: 200, pids: 20, io: [{ device: '8:0', readBps: '1m', writeIops: 100 }] },
  mounts: [
    { type: 'bind', source: '/srv/data', target: '/data', readonly: true },
    { type: 'tmpfs', target: '/tmp', size: '16m' },
    { type: 'sysfs' },
  ],
  capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
  rlimits: { nofile: { soft: 100, hard: 200 }, core: 'unlimited', stack: '8m' },
  sysctls: { 'net.ipv4.ip_unprivileged_port_start': 80 },
  cgroupParent: 'machine/web',
} as const;

type Config = {
  ociVersion: string;
  hostname?: string;
  root: { path: string; readonly: boolean };
  process: Record<string, unknown> & { capabilities: Record<string, string[]>; rlimits: { type: string; soft: number; hard: number }[] };
  mounts: { destination: string; type: string; source: string; options: string[] }[];
  linux: Record<string, unknown> & { namespaces: { type: string }[]; resources: Record<string, unknown> };
};

const oci = (spec: object) => compile(spec, { target: 'oci' });
const config = (spec: object) => JSON.parse(oci(spec)) as Config;

describe('oci target', () => {
  test('process: args, env, cwd, user, capabilities, no_new_privs, rlimits (bytes, RLIM_INFINITY)', () => {
    const c = config(FULL);
    assert.equal(c.ociVersion, '1.0.2');
    assert.deepEqual(c.process['args'], ['/bin/httpd', '-f']);
    assert.deepEqual(c.process['env'], ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'MODE=prod']);
    assert.equal(c.process['cwd'], '/srv');
    assert.deepEqual(c.process['user'], { uid: 1000, gid: 1001, additionalGids: [5] });
    assert.deepEqual(c.process.capabilities, {
      bounding: ['CAP_NET_BIND_SERVICE'], effective: ['CAP_NET_BIND_SERVICE'], permitted: ['CAP_NET_BIND_SERVICE'], inheritable: [], ambient: [],
    });
    assert.equal(c.process['noNewPrivileges'], true);
    assert.match(oci(FULL), /"type": "RLIMIT_CORE",\n\s+"hard": 18446744073709551615,\n\s+"soft": 18446744073709551615/);
    assert.deepEqual(c.process.rlimits.find((l) => l.type === 'RLIMIT_STACK'), { type: 'RLIMIT_STACK', hard: 8388608, soft: 8388608 });
    assert.deepEqual(c.process.rlimits.find((l) => l.type === 'RLIMIT_NOFILE'), { type: 'RLIMIT_NOFILE', hard: 200, soft: 100 });
  });

  test('root, hostname, namespaces, cgroupsPath, sysctls, masked and read-only paths', () => {
    const c = config(FULL);
    assert.deepEqual(c.root, { path: '/srv/rootfs', readonly: false });
    assert.equal(c.hostname, 'web-1');
    assert.deepEqual(c.linux.namespaces.map((n) => n.type), ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']);
    assert.equal(c.linux['cgroupsPath'], '/machine/web/web');
    assert.deepEqual(c.linux['sysctl'], { 'net.ipv4.ip_unprivileged_port_start': '80' });
    assert.ok((c.linux['maskedPaths'] as string[]).includes('/proc/kcore'));
    assert.ok((c.linux['maskedPaths'] as string[]).includes('/sys/firmware'));
    assert.ok((c.linux['readonlyPaths'] as string[]).includes('/proc/sys'));
  });

  test('resources: memory, cpu (quota, period, shares as the script converts them), pids, blockIO', () => {
    assert.deepEqual(config(FULL).linux.resources, {
      devices: [{ allow: false, access: 'rwm' }],
      memory: { limit: 67108864, reservation: 33554432 },
      cpu: { shares: 5220, quota: 50000, period: 100000 },
      pids: { limit: 20 },
      blockIO: {
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
      },
    });
    assert.deepEqual(config({ name: 'a', rootfs: { dir: '/r' } }).linux.resources, { devices: [{ allow: false, access: 'rwm' }] });
  });

  test('mounts: proc, /dev, devpts, shm, mqueue, then the spec\'s in order', () => {
    const c = config(FULL);
    assert.deepEqual(c.mounts.map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/data', '/tmp', '/sys']);
    assert.deepEqual(c.mounts[5], { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'rprivate', 'ro'] });
    assert.deepEqual(c.mounts[6], { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=16777216'] });
    assert.deepEqual(c.mounts[7]!.options, ['ro', 'nosuid', 'nodev', 'noexec']);
    // No ipc namespace: no mqueue of its own. No uts: no hostname.
    const bare = config({ name: 'a', rootfs: { dir: '/r' }, namespaces: ['mount', 'pid'] });
    assert.ok(!bare.mounts.some((m) => m.type === 'mqueue'));
    assert.equal(bare.hostname, undefined);
  });

  test('what OCI 1.0.2 cannot say is refused, every reason at once, each naming its field', () => {
    assert.throws(
      () => oci({
        name: 'a', rootfs: { tar: '/r.tar' }, namespaces: ['mount', 'net', 'time'],
        network: { mode: 'bridge', dns: ['1.1.1.1'] },
      }),
      (error: unknown) => {
        assert.ok(error instanceof TargetError);
        assert.equal(error.problems.length, 3);
        assert.match(error.message, /rootfs\.tar/);
        assert.match(error.message, /namespaces: 'time'/);
        assert.match(error.message, /network\.mode: 'bridge'/);
        return true;
      },
    );
    assert.throws(() => oci({ name: 'a', rootfs: { dir: '/r' }, network: { dns: ['1.1.1.1'] } }), /network\.dns/);
  });

  test('storage: readonlyRootfs is root.readonly; bind flags and volumes are binds; volatile is refused', () => {
    const c = config({
      name: 'a', rootfs: { dir: '/r' }, readonlyRootfs: true,
      mounts: [
        { type: 'bind', source: '/srv/bin', target: '/opt', nosuid: true, nodev: true, noexec: true },
        { type: 'volume', name: 'db', target: '/db', readonly: true },
      ],
    });
    assert.equal(c.root.readonly, true);
    assert.deepEqual(c.mounts.slice(-2), [
      { destination: '/opt', type: 'bind', source: '/srv/bin', options: ['rbind', 'rprivate', 'rw', 'nosuid', 'nodev', 'noexec'] },
      { destination: '/db', type: 'bind', source: '/var/lib/unshared/volumes/db', options: ['rbind', 'rprivate', 'ro'] },
    ]);
    assert.equal(config({ name: 'a', rootfs: { dir: '/r' } }).root.readonly, false);
    assert.throws(() => oci({ name: 'a', rootfs: { dir: '/r' }, volatile: true }), /volatile: an OCI runtime writes into root\.path/);
  });

  test('the output is deterministic JSON ending in a newline', () => {
    assert.equal(oci(FULL), oci(FULL));
    assert.ok(oci(FULL).endsWith('}\n'));
  });
});
