/**
 * The kubernetes target: Pod and Deployment manifests, validated against the Kubernetes API
 * schema by kubernetes-models; fields with no Kubernetes meaning are refused by name.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { Pod } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { compile } from '../../src/compile.js';
import { sharesToWeight, weightToShares } from '../../src/model/cgroup.js';
import { TargetError } from '../../src/targets/target.js';
import { validateSpec } from '../../src/spec/validate.js';

const FULL = {
  name: 'web',
  image: 'registry.example.com/team/web:1.2',
  rootfs: { dir: '/srv/web' },
  hostname: 'web-1',
  command: ['/bin/httpd', '-f', '-p', '80'],
  env: { MODE: 'prod' },
  workdir: '/srv',
  user: '1000:1001',
  groups: [5],
  limits: { memory: '256m', memoryHigh: '128m', cpus: 0.5, cpuWeight: sharesToWeight(256) },
  mounts: [
    { type: 'bind', source: '/srv/data', target: '/data', readonly: true },
    { type: 'tmpfs', target: '/tmp', size: '64m' },
    { type: 'sysfs' },
  ],
  capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
  sysctls: { 'net.ipv4.ip_unprivileged_port_start': 80 },
  network: { mode: 'bridge', ports: [{ host: 8080, container: 80 }, { host: 53, container: 53, protocol: 'udp' }], dns: ['10.0.0.10'], hosts: { db: '10.0.0.5' } },
  restart: 'on-failure',
  stopTimeout: 20,
} as const;

const manifest = (spec: object) => parse(compile(spec, { target: 'kubernetes' })) as Record<string, any>;

describe('kubernetes target', () => {
  test('a Pod with image, command, env, resources, ports, security context and volumes; valid for the API schema', () => {
    const pod = manifest(FULL);
    new Pod(pod as never).validate();
    assert.equal(pod['kind'], 'Pod');
    const spec = pod['spec'];
    const c = spec.containers[0];
    assert.equal(c.image, 'registry.example.com/team/web:1.2');
    assert.deepEqual(c.command, ['/bin/httpd', '-f', '-p', '80']);
    assert.equal(c.workingDir, '/srv');
    assert.deepEqual(c.env.find((e: { name: string }) => e.name === 'MODE'), { name: 'MODE', value: 'prod' });
    // cpuWeight -> the v1 shares the script writes -> the millicores the kubelet turns into those shares.
    const milli = Math.ceil((weightToShares(FULL.limits.cpuWeight) * 1000) / 1024);
    assert.deepEqual(c.resources, { limits: { memory: '256Mi', cpu: '500m' }, requests: { memory: '128Mi', cpu: `${milli}m` } });
    assert.deepEqual(c.ports, [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }, { containerPort: 53, hostPort: 53, protocol: 'UDP' }]);
    assert.deepEqual(c.securityContext, { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] }, runAsUser: 1000, runAsGroup: 1001, allowPrivilegeEscalation: false });
    assert.deepEqual(c.volumeMounts, [{ name: 'volume-0', mountPath: '/data', readOnly: true }, { name: 'volume-1', mountPath: '/tmp' }]);
    assert.deepEqual(spec.volumes, [{ name: 'volume-0', hostPath: { path: '/srv/data' } }, { name: 'volume-1', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } }]);
    assert.equal(spec.hostname, 'web-1');
    assert.equal(spec.restartPolicy, 'OnFailure');
    assert.equal(spec.terminationGracePeriodSeconds, 20);
    assert.deepEqual(spec.securityContext, { supplementalGroups: [5], sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '80' }] });
    assert.deepEqual(spec.dnsConfig, { nameservers: ['10.0.0.10'] });
    assert.deepEqual(spec.hostAliases, [{ ip: '10.0.0.5', hostnames: ['db'] }]);
  });

  test('replicas makes a Deployment (valid for the API schema) whose pods always restart', () => {
    const deployment = manifest({ ...FULL, replicas: 3, restart: 'always' });
    new Deployment(deployment as never).validate();
    assert.equal(deployment['kind'], 'Deployment');
    assert.equal(deployment['spec'].replicas, 3);
    assert.deepEqual(deployment['spec'].selector.matchLabels, deployment['spec'].template.metadata.labels);
    assert.equal(deployment['spec'].template.spec.restartPolicy, 'Always');
    assert.throws(() => manifest({ ...FULL, replicas: 3 }), /restart: a Deployment/);
  });

  test("no 'net' namespace: hostNetwork; no 'pid' or 'ipc': hostPID, hostIPC", () => {
    const pod = manifest({ name: 'h', image: 'busybox', rootfs: { dir: '/r' }, namespaces: ['mount'] });
    new Pod(pod as never).validate();
    assert.equal(pod['spec'].hostNetwork, true);
    assert.equal(pod['spec'].hostPID, true);
    assert.equal(pod['spec'].hostIPC, true);
  });

  test('the API schema catches a manifest that is wrong (the check can fail)', () => {
    const pod = manifest(FULL);
    pod['spec'].containers[0].resources.limits.memory = 'lots';
    assert.throws(() => new Pod(pod as never).validate());
  });

  test('what Kubernetes cannot say is refused, every field named', () => {
    assert.throws(
      () => manifest({
        name: 'Web1', rootfs: { dir: '/r' }, namespaces: ['mount', 'uts', 'pid', 'time'],
        limits: { pids: 10, io: [{ device: '8:0', readBps: '1m' }] }, rlimits: { nofile: 10 },
        mounts: [{ type: 'tmpfs', target: '/t', mode: '700' }],
      }),
      (error: unknown) => {
        assert.ok(error instanceof TargetError);
        const fields = error.problems.map((p) => p.split(':')[0]);
        assert.deepEqual(fields, ['image', 'name', 'namespaces', 'namespaces', 'limits.pids', 'limits.io', 'rlimits', 'mounts[0].mode']);
        return true;
      },
    );
  });

  test('storage: readonlyRootfs is readOnlyRootFilesystem; named volumes and bind flags are refused', () => {
    const ro = manifest({ name: 'web', image: 'nginx:1.27', rootfs: { dir: '/r' }, readonlyRootfs: true });
    assert.equal(ro['spec'].containers[0].securityContext.readOnlyRootFilesystem, true);
    const rw = manifest({ name: 'web', image: 'nginx:1.27', rootfs: { dir: '/r' } });
    assert.equal(rw['spec'].containers[0].securityContext.readOnlyRootFilesystem, undefined);
    assert.throws(
      () => manifest({
        name: 'web', image: 'nginx:1.27', rootfs: { dir: '/r' },
        mounts: [{ type: 'volume', name: 'db', target: '/db' }, { type: 'bind', source: '/srv', target: '/srv', noexec: true }],
      }),
      (error: unknown) => {
        assert.ok(error instanceof TargetError);
        assert.deepEqual(error.problems.map((p) => p.split(':')[0]), ['mounts[0]', 'mounts[1]']);
        assert.match(error.message, /PersistentVolumeClaim/);
        assert.match(error.message, /cannot be mounted noexec/);
        return true;
      },
    );
  });

  test('image is validated as an image reference, naming the field', () => {
    const result = validateSpec({ name: 'a', rootfs: { dir: '/r' }, image: 'not an image' });
    assert.ok(!result.ok);
    assert.deepEqual(result.problems.map((p) => p.path), ['image']);
  });
});
