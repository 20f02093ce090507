/**
 * `unshared import oci`: config.json back into a spec. The round trip (build --target oci,
 * import, build again) gives back the same config: namespaces, limits, mounts and the rest.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../../src/compile.js';
import { ImportError } from '../../src/import/docker-run.js';
import { importOciConfig } from '../../src/import/oci.js';
import { loadSpecFile } from '../../src/spec/load.js';
import { cli } from './support.js';

const scratch = mkdtempSync(join(tmpdir(), 'unshared-import-oci-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const SPECS: Record<string, object> = {
  minimal: { name: 'a', rootfs: { dir: '/r' } },
  full: {
    name: 'web', hostname: 'web-1', rootfs: { dir: '/srv/rootfs' }, command: ['/bin/httpd', '-f'], env: { MODE: 'prod' }, workdir: '/srv',
    user: '1000:1001', groups: [5, 7],
    limits: { memory: '64m', memoryHigh: '32m', cpus: 0.37, cpuWeight: 200, pids: 20, io: [{ device: '8:0', readBps: '1m', writeIops: 100 }, { device: '8:16', writeBps: 4096 }] },
    mounts: [{ type: 'bind', source: '/srv/data', target: '/data', readonly: true }, { type: 'bind', source: '/srv/logs', target: '/logs' }, { type: 'tmpfs', target: '/tmp', size: '16m', mode: '700' }, { type: 'sysfs', readonly: false }],
    rlimits: { nofile: { soft: 100, hard: 200 }, core: 'unlimited', stack: '8m' },
    sysctls: { 'net.ipv4.ip_unprivileged_port_start': 80, 'kernel.shmmax': '65536' },
    cgroupParent: 'machine/web',
    noNewPrivileges: false,
  },
  'capabilities dropped': { name: 'c', rootfs: { dir: '/r' }, capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'KILL'] } },
  'capabilities changed': { name: 'c', rootfs: { dir: '/r' }, capabilities: { drop: ['MKNOD', 'NET_RAW'], add: ['SYS_PTRACE'] } },
  'few namespaces': { name: 'n', rootfs: { dir: '/r' }, namespaces: ['mount', 'pid'] },
  'host network': { name: 'h', rootfs: { dir: '/r' }, namespaces: ['mount', 'pid', 'uts', 'ipc'], network: { mode: 'host' } },
};

function roundTrip(spec: object): { first: string; second: string } {
  const first = compile(spec, { target: 'oci' });
  const { spec: imported } = importOciConfig(JSON.parse(first), { bundleDir: '/bundle' });
  return { first, second: compile(imported, { target: 'oci' }) };
}

describe('import oci', () => {
  for (const [label, spec] of Object.entries(SPECS)) {
    test(`round trip, ${label}: build --target oci, import, build again gives the same config.json`, () => {
      const { first, second } = roundTrip(spec);
      assert.equal(second, first);
    });
  }

  test('a relative root.path is taken from the bundle folder; --name overrides cgroupsPath', () => {
    const config = JSON.parse(compile(SPECS['minimal']!, { target: 'oci' })) as { root: { path: string } };
    config.root.path = 'rootfs';
    const { spec } = importOciConfig(config, { bundleDir: '/srv/bundle', name: 'other' });
    assert.deepEqual(spec.rootfs, { dir: '/srv/bundle/rootfs' });
    assert.equal(spec.name, 'other');
  });

  test('what the spec cannot hold is refused, all at once', () => {
    const config = JSON.parse(compile(SPECS['minimal']!, { target: 'oci' })) as Record<string, any>;
    config['hooks'] = { prestart: [] };
    config['process'].terminal = true;
    config['process'].capabilities.ambient = ['CAP_KILL'];
    config['linux'].seccomp = { defaultAction: 'SCMP_ACT_ERRNO' };
    config['linux'].namespaces.push({ type: 'network', path: '/run/netns/x' });
    config['linux'].resources.hugepageLimits = [];
    config['mounts'].push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [] });
    assert.throws(() => importOciConfig(config, { bundleDir: '/' }), (error: unknown) => {
      assert.ok(error instanceof ImportError);
      assert.deepEqual(error.problems.map((p) => p.split(':')[0]), [
        'hooks', 'linux.seccomp', 'process.terminal', 'process.capabilities.ambient', 'linux.namespaces',
        'linux.resources.hugepageLimits', 'mounts',
      ]);
      return true;
    });
  });

  test('the CLI: import oci writes a spec that builds the same bundle', async () => {
    const bundle = join(scratch, 'bundle');
    mkdirSync(bundle);
    const first = compile(SPECS['full']!, { target: 'oci' });
    writeFileSync(join(bundle, 'config.json'), first);
    const out = join(scratch, 'web.yaml');
    const result = cli(['import', 'oci', join(bundle, 'config.json'), '--format', 'yaml', '-o', out]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(compile(await loadSpecFile(out), { target: 'oci' }), first);
    const bad = cli(['import', 'oci', join(scratch, 'missing.json')]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /cannot read an OCI config/);
  });
});
