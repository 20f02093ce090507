/**
 * The user namespace: resolved maps, what the script and the other targets make of them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from '../../src/compile.js';
import { resolveModel } from '../../src/model/model.js';
import { TargetError } from '../../src/targets/target.js';
import { formatProblems, validateSpec } from '../../src/spec/validate.js';

const BASE = { name: 'web', rootfs: { dir: '/srv/rootfs/web' }, namespaces: ['user', 'pid', 'mount', 'uts', 'ipc', 'net'] };

function model(extra: object = {}) {
  const result = validateSpec({ ...BASE, ...extra });
  if (!result.ok) assert.fail(formatProblems(result.problems));
  return resolveModel(result.spec);
}

describe('user namespace', () => {
  test('default: container ids 0-65535 are host ids 100000-165535, for uids and gids', () => {
    const u = model().userns!;
    assert.equal(u.uidMap, '0 100000 65536\n');
    assert.equal(u.gidMap, '0 100000 65536\n');
    assert.equal(u.rootUid, 100000);
    assert.equal(u.rootGid, 100000);
    assert.equal(u.rootlessUser, true);
  });

  test('hostId and size; uidMap and gidMap as one write of several lines', () => {
    assert.equal(model({ userns: { hostId: 300000, size: 10 } }).userns!.uidMap, '0 300000 10\n');
    const u = model({
      userns: {
        uidMap: [{ containerId: 1000, hostId: 201000, size: 1 }, { containerId: 0, hostId: 200000, size: 1000 }],
        gidMap: [{ containerId: 0, hostId: 400000, size: 2000 }],
      },
      user: '1000:1500',
    }).userns!;
    assert.equal(u.uidMap, '1000 201000 1\n0 200000 1000\n');
    assert.equal(u.gidMap, '0 400000 2000\n');
    assert.equal(u.rootUid, 200000);
    assert.equal(u.rootGid, 400000);
    assert.equal(u.rootlessUser, false);
  });

  test('gidMap defaults to the uidMap; no user namespace, no maps', () => {
    const u = model({ userns: { uidMap: [{ containerId: 0, hostId: 500000, size: 5 }] } }).userns!;
    assert.equal(u.gidMap, '0 500000 5\n');
    const result = validateSpec({ name: 'web', rootfs: { dir: '/srv/rootfs/web' } });
    assert.ok(result.ok);
    assert.equal(resolveModel(result.spec).userns, null);
  });

  test('setpriv keeps the groups where setgroups is denied, and clears them otherwise', () => {
    const m = model();
    assert.ok(m.security.setprivArgs.includes('--clear-groups'));
    assert.ok(m.userns!.setprivArgsKeepGroups.includes('--keep-groups'));
    assert.ok(!m.userns!.setprivArgsKeepGroups.includes('--clear-groups'));
  });

  test('the script: maps, the parent-child FIFO, hostname(1) and the tools it needs', () => {
    const script = compile({ ...BASE, hostname: 'box' });
    assert.match(script, /^USERNS_UID_MAP='0 100000 65536\n'$/m);
    assert.match(script, /^USERNS_ROOT_UID=100000$/m);
    assert.match(script, /__userns-wait\)/);
    assert.match(script, /act hostname "\$CONTAINER_HOSTNAME"/);
    for (const tool of ['mkfifo', 'chgrp', 'chmod', 'hostname', 'touch']) assert.match(script, new RegExp(`^  require_tool ${tool} `, 'm'));
    // Without 'user' none of it is there.
    const plain = compile({ name: 'web', rootfs: { dir: '/srv/rootfs/web' }, hostname: 'box' });
    assert.doesNotMatch(plain, /USERNS|userns|__userns-wait|require_tool mkfifo/);
  });

  test('oci writes uidMappings and gidMappings; runbook and kubernetes refuse user', () => {
    const config = JSON.parse(compile({ ...BASE, userns: { hostId: 200000, size: 1000 } }, { target: 'oci' }));
    assert.deepEqual(config.linux.uidMappings, [{ containerID: 0, hostID: 200000, size: 1000 }]);
    assert.deepEqual(config.linux.gidMappings, [{ containerID: 0, hostID: 200000, size: 1000 }]);
    assert.ok(config.linux.namespaces.some((ns: { type: string }) => ns.type === 'user'));
    assert.throws(() => compile(BASE, { target: 'runbook' }), (e: unknown) => e instanceof TargetError && /namespaces: 'user' needs the generated script/.test(e.message));
    assert.throws(() => compile({ ...BASE, image: 'nginx:1.27' }, { target: 'kubernetes' }), (e: unknown) => e instanceof TargetError && /namespaces: 'user'/.test(e.message));
  });

  test('with the cgroup namespace and sysfs, the cgroups appear below the sysfs mount', () => {
    assert.equal(model({ namespaces: [...BASE.namespaces, 'cgroup'], mounts: [{ type: 'sysfs', target: '/host-sys' }] }).cgroupfs, '/host-sys/fs/cgroup');
    assert.equal(model({ mounts: [{ type: 'sysfs' }] }).cgroupfs, null);
    assert.equal(model({ namespaces: [...BASE.namespaces, 'cgroup'] }).cgroupfs, null);
  });
});
