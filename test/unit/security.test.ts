/**
 * Security of the compiler's output: the capability, user and rlimit decisions, the refusal of
 * host-wide sysctls, and hostile input. Every string a spec can carry is either refused by
 * validation, naming its field, or reaches the shell byte for byte, in a script that bash
 * parses and shellcheck accepts.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { compile, planContainer } from '../../src/compile.js';
import { shellQuote } from '../../src/render/quote.js';
import { validateSpec } from '../../src/spec/validate.js';

const base = { name: 'sec', rootfs: { dir: '/srv/rootfs' } };

function problems(spec: unknown): string[] {
  const result = validateSpec(spec);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

test('Docker default capabilities: the kernel mask a80425fb, nothing inheritable or ambient', () => {
  const model = planContainer(base);
  assert.equal(model.security.capabilityMask, '00000000a80425fb');
  assert.equal(model.security.capabilities.length, 14);
  assert.ok(model.security.setprivArgs.includes('--inh-caps=-all'));
  assert.ok(model.security.setprivArgs.includes('--ambient-caps=-all'));
  assert.ok(model.security.setprivArgs.includes('--no-new-privs'));
  assert.ok(model.security.setprivArgs.includes('--clear-groups'));
});

test('capabilities: add and drop, ALL, CAP_ prefix', () => {
  assert.equal(planContainer({ ...base, capabilities: { add: ['NET_ADMIN'] } }).security.capabilityMask, '00000000a80435fb');
  const none = planContainer({ ...base, capabilities: { drop: ['ALL'] } }).security;
  assert.equal(none.capabilityMask, '0000000000000000');
  assert.equal(none.setprivArgs[0], '--bounding-set=-all');
  const one = planContainer({ ...base, capabilities: { drop: ['ALL'], add: ['CAP_NET_BIND_SERVICE'] } }).security;
  assert.deepEqual(one.capabilities, ['net_bind_service']);
  assert.equal(one.capabilityMask, '0000000000000400');
  assert.match(problems({ ...base, capabilities: { add: ['ROOT'] } })[0]!, /^capabilities\.add\[0\]: expected a capability name/);
  assert.match(problems({ ...base, capabilities: { add: ['ALL'] } })[0]!, /^capabilities\.add\[0\]/);
});

test('noNewPrivileges: false leaves it off; user and groups reach setpriv', () => {
  const s = planContainer({ ...base, noNewPrivileges: false, user: '1000:100', groups: [5, 6, 5] }).security;
  assert.ok(!s.setprivArgs.includes('--no-new-privs'));
  assert.ok(s.setprivArgs.includes('--reuid=1000'));
  assert.ok(s.setprivArgs.includes('--regid=100'));
  assert.ok(s.setprivArgs.includes('--groups=5,6'));
  assert.match(problems({ ...base, user: 'nobody' })[0]!, /^user: expected user as numeric 'uid:gid'/);
  assert.match(problems({ ...base, user: '1000' })[0]!, /^user: /);
  assert.match(problems({ ...base, user: '4294967295:0' })[0]!, /^user: uid and gid must be at most/);
  assert.match(problems({ ...base, groups: [-1] })[0]!, /^groups\[0\]: /);
});

test('rlimits: counts as they are, sizes in KiB, soft above hard refused', () => {
  const r = planContainer({ ...base, rlimits: { nofile: 1024, stack: '8m', core: { soft: 0, hard: 'unlimited' } } }).security.rlimits;
  assert.deepEqual(r, [
    { name: 'nofile', flag: '-n', soft: '1024', hard: '1024' },
    { name: 'core', flag: '-c', soft: '0', hard: 'unlimited' },
    { name: 'stack', flag: '-s', soft: '8192', hard: '8192' },
  ]);
  assert.match(problems({ ...base, rlimits: { nofile: { soft: 10, hard: 5 } } })[0]!, /^rlimits\.nofile\.soft: the soft limit cannot be above/);
  assert.match(problems({ ...base, rlimits: { nofile: '1m' } })[0]!, /^rlimits\.nofile: expected a whole number/);
  assert.match(problems({ ...base, rlimits: { stack: 1000 } })[0]!, /^rlimits\.stack: expected a size in whole KiB/);
  assert.match(problems({ ...base, rlimits: { files: 1 } })[0]!, /^rlimits\.files: unknown field/);
});

test('sysctls: only namespaced ones, and only with their namespace', () => {
  assert.deepEqual(planContainer({ ...base, sysctls: { 'net.ipv4.ip_forward': 1 } }).sysctls, [
    { key: 'net.ipv4.ip_forward', path: '/proc/sys/net/ipv4/ip_forward', value: '1' },
  ]);
  assert.match(problems({ ...base, sysctls: { 'kernel.panic': 1 } })[0]!, /^sysctls\["kernel\.panic"\]: only namespaced sysctls/);
  assert.match(problems({ ...base, sysctls: { 'vm.swappiness': 1 } })[0]!, /^sysctls\["vm\.swappiness"\]: only namespaced/);
  assert.match(
    problems({ ...base, namespaces: ['mount', 'pid'], sysctls: { 'net.ipv4.ip_forward': 1, 'kernel.shmmax': 1 } }).join('\n'),
    /sysctls\["net\.ipv4\.ip_forward"\]: add 'net'[^]*sysctls\["kernel\.shmmax"\]: add 'ipc'/,
  );
  assert.match(problems({ ...base, sysctls: { 'net.core.somaxconn': '1\n2' } })[0]!, /^sysctls\["net\.core\.somaxconn"\]: /);
  assert.match(problems({ ...base, sysctls: { '../../x': 1 } })[0]!, /^sysctls\["\.\.\/\.\.\/x"\]: expected a sysctl name/);
});

test('timeOffsets need the time namespace and become unshare options', () => {
  assert.match(problems({ ...base, timeOffsets: { boottime: 5 } })[0]!, /^timeOffsets: add 'time'/);
  const args = planContainer({ ...base, namespaces: ['mount', 'pid', 'time'], timeOffsets: { monotonic: -5, boottime: 86400 } }).unshareArgs;
  assert.ok(args.includes('--monotonic=-5') && args.includes('--boottime=86400') && args.includes('--time'));
});

test('masked and read-only paths: the OCI defaults, and sysfs ones below each sysfs mount', () => {
  const model = planContainer({ ...base, mounts: [{ type: 'sysfs' }] });
  for (const p of ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/acpi', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap']) {
    assert.ok(model.maskedPaths.includes(p), p);
  }
  assert.deepEqual(model.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
});

// --- Hostile input --------------------------------------------------------------------------

const NASTY = [
  "'", '"', '`id`', '$(id)', '${IFS}', '$IFS', '*', '?', '[a-z]', '~', ';', '|', '&', '<', '>', '>>', '\n', '\r', '\t',
  'EOF', 'LAST_STAGE', '-rf', '--help', '-', '--', '\\', '\\n', '\x1b[31m', '\x7f', '\u00e9', '\u{1f600}', '\ud800',
  '\0', '!', '#', '%', '{a,b}', "'\\''", '$\'x\'', '$"x"',
];

/** Random text: adversarial pieces glued to arbitrary code points (lone surrogates included). */
const hostile = fc.oneof(
  fc.array(fc.oneof(fc.constantFrom(...NASTY), fc.string({ unit: 'binary', maxLength: 8 })), { maxLength: 6 }).map((parts) => parts.join('')),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('x'.repeat(5_000), `${"$(id)'".repeat(1_000)}`),
);

/** What bash makes of a quoted word: printf '%s\0' WORD, run for real. */
function bashWords(words: string[]): string[] {
  const script = `printf '%s\\0' ${words.map(shellQuote).join(' ')}`;
  const out = execFileSync('bash', [], { input: script, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return out.split('\0').slice(0, -1);
}

test('q: every text without NUL reaches bash byte for byte', () => {
  // One bash run for all samples: spawning bash per sample is slow.
  const words = fc.sample(hostile.filter((s) => !s.includes('\0') && s.isWellFormed()), { numRuns: 200, seed: 42 });
  const back = bashWords(words);
  words.forEach((w, i) => assert.equal(back[i], w, `sample ${i}: ${JSON.stringify(w).slice(0, 200)}`));
  assert.equal(back.length, words.length);
});

/** Puts a value into one string field of a spec. */
const FIELDS: Record<string, (v: string) => Record<string, unknown>> = {
  name: (v) => ({ ...base, name: v }),
  hostname: (v) => ({ ...base, hostname: v }),
  'rootfs.dir': (v) => ({ ...base, rootfs: { dir: `/${v}` } }),
  'rootfs.tar': (v) => ({ ...base, rootfs: { tar: `/${v}` } }),
  'command[1]': (v) => ({ ...base, command: ['/bin/echo', v] }),
  'env.X': (v) => ({ ...base, env: { X: v } }),
  env: (v) => ({ ...base, env: { [v]: 'x' } }),
  workdir: (v) => ({ ...base, workdir: `/${v}` }),
  'mounts[0].source': (v) => ({ ...base, mounts: [{ type: 'bind', source: `/${v}`, target: '/mnt' }] }),
  'mounts[0].target': (v) => ({ ...base, mounts: [{ type: 'tmpfs', target: `/${v}` }] }),
  cgroupParent: (v) => ({ ...base, cgroupParent: v }),
  user: (v) => ({ ...base, user: v }),
  sysctls: (v) => ({ ...base, sysctls: { 'net.core.somaxconn': v } }),
  'capabilities.add[0]': (v) => ({ ...base, capabilities: { add: [v] } }),
};

test('hostile text in any field: refused naming the field, or a script bash parses and shellcheck accepts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unshared-fuzz-'));
  const scripts: string[] = [];
  try {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(FIELDS)), hostile, (field, value) => {
        const spec = FIELDS[field]!(value);
        const result = validateSpec(spec);
        if (!result.ok) {
          const root = field.replace(/[.[].*$/, '');
          assert.ok(result.problems.some((p) => p.path.startsWith(root)), `${field}: ${JSON.stringify(result.problems)}`);
          return;
        }
        const script = compile(spec);
        const file = join(dir, `s${scripts.length}.sh`);
        writeFileSync(file, script);
        scripts.push(file);
      }),
      { numRuns: 120, seed: 42 },
    );
    // bash -n on every accepted script, in one bash run.
    const parsed = spawnSync('bash', ['-c', 'for f; do bash -n "$f" || echo "does not parse: $f"; done', 'bash', ...scripts], { encoding: 'utf8' });
    assert.equal(parsed.stdout + parsed.stderr, '');
    // shellcheck is slow to start: one run over a sample of the accepted scripts.
    const checked = spawnSync('shellcheck', scripts.slice(0, 25), { encoding: 'utf8' });
    assert.equal(checked.status, 0, checked.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hostile command arguments and env values are the same words in the script', () => {
  for (const value of fc.sample(hostile.filter((s) => !s.includes('\0') && s.isWellFormed()), { numRuns: 100, seed: 7 })) {
    const script = compile({ ...base, command: ['/bin/echo', value], env: { V: value } });
    assert.ok(script.includes(`CONTAINER_COMMAND=(/bin/echo ${shellQuote(value)})\n`), JSON.stringify(value).slice(0, 200));
    assert.ok(script.includes(`V=${shellQuote(value)}\n`), JSON.stringify(value).slice(0, 200));
  }
});
