/**
 * `unshared import docker-run`: each docker run flag maps to a spec field, or is refused with
 * the others in one error; the output in each format loads back as the same valid spec.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImportError, importDockerRun } from '../../src/import/docker-run.js';
import { sharesToWeight } from '../../src/model/cgroup.js';
import { loadSpecFile } from '../../src/spec/load.js';
import { validateSpec } from '../../src/spec/validate.js';
import { cli } from './support.js';

const scratch = mkdtempSync(join(tmpdir(), 'unshared-import-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const FULL = [
  '--name', 'web', '--hostname=web1', '-m', '256m', '--memory-reservation', '128m', '--cpus', '1.5', '--cpu-shares', '512',
  '--pids-limit', '100', '-e', 'A=1', '--env=B=x y', '-w', '/srv', '-u', '1000:1001', '-v', '/srv/data:/data:ro', '-v', '/srv/logs:/logs',
  '--tmpfs', '/run:size=64m,mode=755', '-p', '8080:80', '-p', '53:53/udp', '--network', 'bridge', '--cap-add', 'NET_ADMIN',
  '--cap-drop', 'MKNOD', '--ulimit', 'nofile=1024:2048', '--ulimit', 'core=-1', '--entrypoint', '/bin/httpd', '--rm', '-i',
  '--read-only', '-v', 'web-cache:/var/cache/nginx', 'nginx:1.27', '-f', '-p', '80',
];

describe('import docker-run', () => {
  test('every supported flag lands in its field', () => {
    const { spec, notices } = importDockerRun(FULL);
    assert.deepEqual(spec, {
      name: 'web',
      image: 'nginx:1.27',
      rootfs: { dir: '/var/lib/unshared/images/nginx:1.27' },
      hostname: 'web1',
      user: '1000:1001',
      workdir: '/srv',
      command: ['/bin/httpd', '-f', '-p', '80'],
      env: { A: '1', B: 'x y' },
      limits: { memory: '256m', memoryHigh: '128m', cpus: 1.5, cpuWeight: sharesToWeight(512), pids: 100 },
      mounts: [
        { type: 'bind', source: '/srv/data', target: '/data', readonly: true },
        { type: 'bind', source: '/srv/logs', target: '/logs' },
        { type: 'tmpfs', target: '/run', size: '64m', mode: '755' },
        { type: 'volume', name: 'web-cache', target: '/var/cache/nginx' },
      ],
      capabilities: { add: ['NET_ADMIN'], drop: ['MKNOD'] },
      rlimits: { nofile: { soft: 1024, hard: 2048 }, core: 'unlimited' },
      readonlyRootfs: true,
      autoRemove: true,
      network: { mode: 'bridge', ports: [{ host: 8080, container: 80 }, { host: 53, container: 53, protocol: 'udp' }], nat: true },
    });
    assert.ok(validateSpec(spec).ok);
    assert.ok(notices.some((n) => n.includes('rootfs must be provided')));
  });

  test('--cpu-shares uses crun\'s formula (1024 -> 39, 2 -> 1, 262144 -> 10000)', () => {
    const weight = (shares: string) => (importDockerRun(['--cpu-shares', shares, 'img']).spec.limits as { cpuWeight: number }).cpuWeight;
    assert.equal(weight('1024'), 39);
    assert.equal(weight('2'), 1);
    assert.equal(weight('262144'), 10000);
  });

  test('short flags joined to values; no name -> named after the image', () => {
    const { spec, notices } = importDockerRun(['-i', '--rm', '-eX=1', '-p8080:80', '-m=64m', 'registry.example.com/team/app:v2']);
    assert.equal(spec.name, 'app');
    assert.deepEqual(spec.env, { X: '1' });
    assert.deepEqual((spec.limits as object), { memory: '64m' });
    assert.ok(notices.some((n) => n.includes("named 'app'")));
  });

  test('--network host leaves the net namespace out; none keeps it', () => {
    const host = importDockerRun(['--network', 'host', 'img']).spec;
    assert.deepEqual(host.namespaces, ['pid', 'mount', 'uts', 'ipc', 'cgroup']);
    assert.deepEqual(host.network, { mode: 'host' });
    assert.ok(validateSpec(host).ok);
    const none = importDockerRun(['--net=none', 'img']).spec;
    assert.deepEqual(none.network, { mode: 'none' });
    assert.ok(validateSpec(none).ok);
  });

  test('flags with no equivalent are all listed in one error', () => {
    assert.throws(
      () => importDockerRun(['-d', '--init', '-it', '--gpus', 'all', '-v', 'data', '-p', '127.0.0.1:80:80', '--network', 'mynet', '-e', 'HOME', '--privileged', 'img', 'cmd']),
      (error: unknown) => {
        assert.ok(error instanceof ImportError);
        assert.deepEqual(error.problems.map((p) => p.split(':')[0]), [
          '-d', '--init', '-t', '--gpus all', '-v data', '-p 127.0.0.1', '--network mynet', '-e HOME', '--privileged',
        ]);
        assert.match(error.message, /-v data: expected a host directory or a volume name/);
        return true;
      },
    );
    assert.throws(() => importDockerRun(['--name', 'x']), /needs an image/);
  });

  for (const format of ['ts', 'json', 'yaml'] as const) {
    test(`the CLI writes ${format} that loads back as the same spec; notices on stderr`, async () => {
      const file = join(scratch, `web.${format}`);
      const result = cli(['import', 'docker-run', '--format', format, '-o', file, '--', ...FULL]);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stderr, /unshared: note: the rootfs must be provided/);
      const loaded = (await loadSpecFile(file)) as Record<string, unknown>;
      delete loaded['$schema'];
      assert.deepEqual(loaded, importDockerRun(FULL).spec);
    });
  }

  test('the CLI: unsupported flags and invalid values exit 2 and write nothing', () => {
    const file = join(scratch, 'bad.ts');
    let result = cli(['import', 'docker-run', '-o', file, '--', '--init', '-d', 'img']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--init.*\n.*-d:/);
    result = cli(['import', 'docker-run', '--', '-m', 'lots', 'img']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /limits\.memory/);
    assert.equal(result.out, '');
  });
});
