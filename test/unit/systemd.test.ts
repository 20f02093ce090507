/**
 * The systemd target's unit text (test/bats/systemd.bats runs `systemd-analyze verify` on it).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from '../../src/compile.js';
import { validateSpec } from '../../src/spec/validate.js';
import { TargetError } from '../../src/targets/target.js';

const SPEC = { name: 'web', rootfs: { dir: '/srv/web' }, stopTimeout: 7 };
const unit = (spec: object, scriptPath?: string) => compile(spec, { target: 'systemd', scriptPath });
const lines = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

describe('systemd target', () => {
  test('runs the script in the foreground; SIGTERM to it alone; time to stop and clean up', () => {
    assert.deepEqual(lines(unit(SPEC)), [
      '[Unit]',
      'Description=unshared container web',
      '[Service]',
      'Type=exec',
      'ExecStart=/usr/local/bin/web.sh run',
      'KillMode=mixed',
      'KillSignal=SIGTERM',
      'TimeoutStopSec=22',
      'SuccessExitStatus=143',
      'Restart=no',
      '[Install]',
      'WantedBy=multi-user.target',
    ]);
  });

  test('restart policy and --script-path', () => {
    const text = unit({ ...SPEC, restart: 'on-failure' }, '/opt/web/run@1.sh');
    assert.match(text, /^ExecStart=\/opt\/web\/run@1\.sh run$/m);
    assert.match(text, /^Restart=on-failure\nRestartSec=2$/m);
    assert.match(unit({ ...SPEC, restart: 'always' }), /^Restart=always$/m);
  });

  test('restart is validated, naming the field', () => {
    const result = validateSpec({ ...SPEC, restart: 'sometimes' });
    assert.ok(!result.ok);
    assert.deepEqual(result.problems.map((p) => p.path), ['restart']);
  });

  test('a script path systemd would reinterpret is refused', () => {
    for (const path of ['relative.sh', '/opt/my script.sh', '/opt/100%.sh', '/opt/../x.sh', '/opt/x\\y', '/opt/']) {
      assert.throws(() => unit(SPEC, path), TargetError, path);
    }
  });
});
