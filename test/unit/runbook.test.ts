/**
 * The runbook target's text (test/bats/runbook.bats runs its blocks for real): numbered steps
 * with a bash block each, valid bash, values that reach bash byte for byte, refusals.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from '../../src/compile.js';
import { TargetError } from '../../src/targets/target.js';
import { bash, FIXTURES } from './support.js';

const runbook = (spec: object) => compile(spec, { target: 'runbook' });
const blocks = (text: string) => [...text.matchAll(/^```bash\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
const HOSTILE = JSON.parse(readFileSync(join(FIXTURES, 'valid', 'hostile-values.json'), 'utf8')) as { command: string[] };

describe('runbook target', () => {
  test('numbered steps, each with its why and one bash block; the last cleans up', () => {
    const text = runbook({ name: 'web', rootfs: { dir: '/srv/web' }, limits: { memory: '64m' } });
    const titles = [...text.matchAll(/^## ([0-9]+)\. (.*)$/gm)];
    assert.deepEqual(titles.map((t) => Number(t[1])), titles.map((_, i) => i + 1));
    assert.equal(blocks(text).length, titles.length);
    assert.match(titles.at(-1)![2]!, /^Clean up/);
    assert.match(text, /echo 67108864 > \/sys\/fs\/cgroup\/memory\/unshared\/web\/memory\.limit_in_bytes/);
    assert.match(text, /echo 67108864 > \/sys\/fs\/cgroup\/unshared\/web\/memory\.max/);
  });

  test('every block is valid bash, even with hostile values', () => {
    for (const block of blocks(runbook(HOSTILE))) {
      const result = bash(['-n'], { input: block });
      assert.equal(result.status, 0, `${result.stderr}\n${block}`);
    }
  });

  test("the command reaches bash byte for byte (each value through shellQuote)", () => {
    const start = blocks(runbook(HOSTILE)).find((b) => b.includes('exec env -i'))!;
    // The words after `container`: the FIFO, the workdir, then the command.
    const words = start.slice(start.indexOf("' container ") + "' container ".length);
    const result = bash(['-c', `printf '%s\\0' ${words}`]);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.stdout.toString('utf8').split('\0').slice(2, -1), HOSTILE.command);
  });

  test('storage: the root is an overlay of the rootfs under a layer in the runbook\'s state; readonly, volatile, volumes', () => {
    const state = '/var/lib/unshared/runbook/a';
    const plain = runbook({ name: 'a', rootfs: { dir: '/srv/rootfs' } });
    assert.match(plain, new RegExp(`^mount -t overlay -o 'lowerdir=/srv/rootfs,upperdir=${state}/upper,workdir=${state}/work' overlay ${state}/root$`, 'm'));
    assert.match(plain, new RegExp(`cd ${state}/root && pivot_root \\. \\.`));
    const ro = runbook({ name: 'a', rootfs: { dir: '/srv/rootfs' }, readonlyRootfs: true });
    assert.match(ro, new RegExp(`^mount -o bind,ro /srv/rootfs ${state}/root$`, 'm'));
    assert.doesNotMatch(ro, /overlay/);
    const volatile = runbook({
      name: 'a', rootfs: { dir: '/srv/rootfs' }, volatile: true,
      mounts: [{ type: 'volume', name: 'db', target: '/db', nosuid: true }],
    });
    assert.match(volatile, new RegExp(`^mount -t tmpfs -o mode=0755 tmpfs ${state}/root$`, 'm'));
    assert.match(volatile, new RegExp(`upperdir=${state}/root/upper,workdir=${state}/root/work' overlay ${state}/root$`, 'm'));
    assert.match(volatile, /^mkdir -p \/var\/lib\/unshared\/volumes\/db /m);
    assert.match(volatile, new RegExp(`^mount --bind -o nosuid /var/lib/unshared/volumes/db ${state}/root/db$`, 'm'));
    for (const text of [plain, ro, volatile]) {
      for (const block of blocks(text)) assert.equal(bash(['-n'], { input: block }).status, 0, block);
    }
  });

  test('bridge networking and network files are refused, naming the field', () => {
    assert.throws(() => runbook({ name: 'a', rootfs: { dir: '/r' }, network: { mode: 'bridge' } }), (e: unknown) => e instanceof TargetError && /network\.mode/.test(e.message));
    assert.throws(() => runbook({ name: 'a', rootfs: { dir: '/r' }, network: { dns: ['1.1.1.1'] } }), /network\.dns/);
  });

  test('a tarball rootfs is unpacked into the runbook\'s directory and removed at the end', () => {
    const text = runbook({ name: 'a', rootfs: { tar: '/img/a.tar.gz' } });
    assert.match(text, /tar -xf \/img\/a\.tar\.gz -C \/var\/lib\/unshared\/runbook\/a\/rootfs/);
    assert.match(text, /rm -rf --one-file-system \/var\/lib\/unshared\/runbook\/a\nrmdir \/var\/lib\/unshared\/runbook \/var\/lib\/unshared 2>\/dev\/null \|\| true\n```\n$/);
  });
});
