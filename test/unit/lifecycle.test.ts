/**
 * The day-2 verbs in the model and the script: state root, measuring controllers, the tools the
 * verbs need, and a compiled script whose verbs parse and whose help names each of them.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compile, planContainer } from '../../src/compile.js';
import { cgroupControllers } from '../../src/model/cgroup.js';

const spec = { name: 'web', rootfs: { dir: '/srv/rootfs' } };

test('the model carries the state root and the env-name rules for exec -e', () => {
  const model = planContainer(spec);
  assert.equal(model.stateRoot, '/run/unshared');
  assert.equal(model.envNamePattern, '^[A-Za-z_][A-Za-z0-9_]*$');
  assert.ok(model.reservedEnvNames.includes('SHLVL'));
});

test('memory, pids and (v1) cpuacct are always asked for, optionally, to measure the container', () => {
  assert.deepEqual(cgroupControllers({}), [
    { name: 'memory', required: false },
    { name: 'cpuacct', required: false },
    { name: 'pids', required: false },
  ]);
  assert.deepEqual(cgroupControllers({ cpus: 0.5 }).map((c) => c.name), ['memory', 'cpu', 'cpuacct', 'pids']);
});

test('the verbs need nsenter, setsid and tail, and the preflight names their packages', () => {
  const names = planContainer(spec).tools.map((t) => t.name);
  for (const tool of ['nsenter', 'setsid', 'tail']) assert.ok(names.includes(tool), tool);
});

test('the script parses each verb, refuses bad verb arguments, and has help for each', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unshared-unit-'));
  try {
    const script = join(dir, 'web.sh');
    writeFileSync(script, compile(spec), { mode: 0o755 });
    execFileSync('bash', ['-n', script]);
    const help = execFileSync(script, ['--help'], { encoding: 'utf8' });
    for (const verb of ['run', 'start', 'exec', 'stop', 'kill', 'status', 'ps', 'logs', 'stats', 'rm']) {
      assert.match(help, new RegExp(`^  ${verb}\\b`, 'm'), verb);
      const verbHelp = execFileSync(script, [verb, '--help'], { encoding: 'utf8' });
      assert.match(verbHelp, new RegExp(`^Usage: web\\.sh ${verb === 'run' ? '\\[run\\]' : verb}`), verb);
    }
    const bad = (args: string[], message: RegExp) => {
      const r = spawnSync(script, args, { encoding: 'utf8' });
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, message);
    };
    bad(['exec'], /exec needs a command/);
    bad(['exec', '-e', '1X=y', '--', 'true'], /exec -e takes NAME=VALUE/);
    bad(['exec', '-e', 'SHLVL=2', '--', 'true'], /reserved by bash/);
    bad(['exec', '-w', 'rel', '--', 'true'], /absolute path/);
    bad(['stop', '--time', 'soon'], /whole seconds/);
    bad(['kill', 'NOPE'], /unknown signal/);
    bad(['rm', '--bogus'], /unknown argument: --bogus \(see: web\.sh rm --help\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
