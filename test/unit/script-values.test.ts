/**
 * Values through a compiled script, without root: the script is sourced by bash with --help
 * (which defines everything and stops before any namespace or cgroup), then its settings are
 * printed, and its exec_command step is run on `env -0`. What the container would get as its
 * command, environment and settings must be the spec's, byte for byte.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../../src/compile.js';
import { resolveModel } from '../../src/model/model.js';
import { DEFAULT_PATH, RESERVED_ENV_NAMES } from '../../src/spec/schema.js';
import { loadSpecFile } from '../../src/spec/load.js';
import { formatProblems, validateSpec } from '../../src/spec/validate.js';
import { repoRelative, run, specFixtures } from './support.js';

const scratch = mkdtempSync(join(tmpdir(), 'unshared-values-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
function scriptFile(spec: unknown): string {
  const file = join(scratch, `script-${counter++}.sh`);
  writeFileSync(file, compile(spec), { mode: 0o755 });
  return file;
}

/** Sources the script with --help in an empty environment, then runs `after` (bash code). */
function sourced(script: string, code: string): { fields: string[]; stderr: string } {
  const result = run('env', ['-i', '/bin/bash', '--norc', '--noprofile', '-c', `source "$1" --help >/dev/null\n${code}`, 'test', script]);
  assert.equal(result.status, 0, `bash failed: ${result.stderr}`);
  const text = result.stdout.toString('utf8');
  assert.ok(text.endsWith('\0') || text === '', 'NUL-terminated output');
  return { fields: text === '' ? [] : text.slice(0, -1).split('\0'), stderr: result.stderr };
}

/**
 * The environment the container's command starts with. exec_command hands the command to the
 * host's setpriv (which drops privileges) and then to a fresh bash that builds the environment;
 * here `act` skips setpriv (it needs root and the container) and runs that last bash directly,
 * in / instead of the spec's workdir, which exists only in the rootfs.
 */
const RUN_LAST_STAGE = [
  'HOST_LOADER=() HOST_SETPRIV=setpriv HOST_BASH=/bin/bash',
  'act() { while [[ $1 != -- ]]; do shift; done; shift; local argv=("$@"); argv[4]=/; exec -c "${argv[@]}"; }',
].join('\n');

function containerEnv(script: string): Map<string, string> {
  const { fields } = sourced(script, `${RUN_LAST_STAGE}\nexec_command /usr/bin/env -0`);
  const env = new Map<string, string>();
  for (const field of fields) {
    const eq = field.indexOf('=');
    env.set(field.slice(0, eq), field.slice(eq + 1));
  }
  env.delete('_'); // bash sets it to the command's path on exec: the reason '_' is reserved
  return env;
}

const printArray = (name: string) => `printf '%s\\0' "\${${name}[@]}"`;

describe('the spec reaches the container byte for byte', () => {
  for (const fixture of specFixtures('valid')) {
    test(`command, settings and environment of ${repoRelative(fixture)}`, async () => {
      const input = await loadSpecFile(fixture);
      const result = validateSpec(input);
      assert.ok(result.ok, result.ok ? '' : formatProblems(result.problems));
      if (!result.ok) return;
      const spec = result.spec;
      const model = resolveModel(spec);
      const script = scriptFile(input);

      assert.deepEqual(sourced(script, printArray('CONTAINER_COMMAND')).fields, spec.command, 'CONTAINER_COMMAND');
      assert.deepEqual(sourced(script, printArray('UNSHARE_ARGS')).fields, model.unshareArgs, 'UNSHARE_ARGS');
      const settings = sourced(
        script,
        `printf '%s\\0' "$CONTAINER_NAME" "\${CONTAINER_HOSTNAME-(none)}" "\${ROOTFS_DIR-\${ROOTFS_TAR-\$LAYER_CACHE}}" "$CONTAINER_WORKDIR" "$CGROUP_PARENT" "$STOP_TIMEOUT"`,
      ).fields;
      assert.deepEqual(settings, [
        spec.name,
        model.hostname ?? '(none)',
        'dir' in model.rootfs ? model.rootfs.dir : 'tar' in model.rootfs ? model.rootfs.tar : model.layerCache,
        spec.workdir,
        spec.cgroupParent,
        String(spec.stopTimeout),
      ]);

      // Each layer source reaches its step of prepare_rootfs byte for byte (the steps are
      // replaced by stubs that print their arguments).
      if ('layers' in model.rootfs) {
        const stubs = ['layer_cache_open', 'layer_from_tar', 'layer_from_url', 'layers_from_oci']
          .map((f) => `${f}() { printf '%s\\0' ${f} "$@"; }`).join('\n');
        const steps = sourced(script, `${stubs}\nprepare_rootfs\n((\${#ROOTFS_LAYERS[@]} == 0)) || printf '%s\\0' "\${ROOTFS_LAYERS[@]}"`).fields;
        const expectedSteps = ['layer_cache_open'];
        for (const layer of model.rootfs.layers) {
          if (layer.tar !== undefined) expectedSteps.push('layer_from_tar', layer.tar, layer.origin);
          if (layer.url !== undefined) expectedSteps.push('layer_from_url', layer.url.url, layer.url.sha256, layer.origin);
          if (layer.oci !== undefined) expectedSteps.push('layers_from_oci', layer.oci.layout, layer.oci.ref, layer.origin);
        }
        expectedSteps.push(...model.rootfs.layers.flatMap((l) => (l.dir === undefined ? [] : [l.dir])));
        assert.deepEqual(steps, expectedSteps, 'prepare_rootfs');
      }

      const expected = new Map(model.env.map((e) => [e.name, e.value]));
      assert.deepEqual(containerEnv(script), expected);
    });
  }

  test('no variable of the script or of bash leaks into the container environment', () => {
    const env = containerEnv(scriptFile({ name: 'web', rootfs: { dir: '/srv/rootfs' } }));
    assert.deepEqual([...env.entries()], [['PATH', DEFAULT_PATH]]);
  });

  test('every env name bash treats specially, but does not reserve, arrives unchanged', () => {
    const special = [
      'PIPESTATUS', 'FUNCNAME', 'GROUPS', 'DIRSTACK', 'BASH_REMATCH', 'BASH_COMMAND', 'LINENO', 'RANDOM', 'SRANDOM', 'SECONDS',
      'EPOCHSECONDS', 'EPOCHREALTIME', 'BASHPID', 'BASH_SUBSHELL', 'HISTCMD', 'OPTIND', 'OPTARG', 'OPTERR', 'IFS', 'BASH_ARGV0',
      'BASH_COMPAT', 'BASH_XTRACEFD', 'BASH_ENV', 'ENV', 'PS4', 'TMOUT', 'HOME', 'PWD', 'OLDPWD', 'HOSTNAME', 'HOSTTYPE',
      'BASH', 'BASH_VERSION', 'BASH_ALIASES', 'BASH_CMDS', 'COPROC', 'MAPFILE', 'REPLY', 'LANG', 'LC_ALL', 'LC_CTYPE',
      'GLOBIGNORE', 'CDPATH', 'SHELL', 'PROMPT_COMMAND', 'COMP_WORDBREAKS', 'HISTFILE', 'POSIXLY_CORRECT',
      // the script's own variables and locals
      'fd', 'DRY_RUN', 'CONTAINER_NAME', 'CONTAINER_COMMAND', 'CGROUP_PARENT', 'CGROUP_DIR', 'ROOTFS', 'UNDO', 'SELF', 'VERB',
    ];
    const reserved: readonly string[] = RESERVED_ENV_NAMES;
    const names = special.filter((n) => !reserved.includes(n));
    const value = "v a'l\"ue $(id) `id` \\ \n end";
    const env = Object.fromEntries(names.map((n) => [n, `${n}: ${value}`]));
    const spec = { name: 'web', rootfs: { dir: '/srv/rootfs' }, env };
    assert.ok(validateSpec(spec).ok, 'these names are all accepted by the schema');
    const actual = containerEnv(scriptFile(spec));
    const wrong = names.filter((n) => actual.get(n) !== env[n]);
    assert.deepEqual(wrong, [], `these env names do not reach the container as given: reserve them, or set them differently\n${wrong.map((n) => `${n}=${JSON.stringify(actual.get(n) ?? '(unset)')}`).join('\n')}`);
  });
});
