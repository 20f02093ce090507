/**
 * `docker run` command lines as specs. Every flag is either mapped to a spec field or reported:
 * flags with no equivalent are collected and refused together (ImportError), never dropped.
 * The image cannot be pulled (unshared has no image store): it names the rootfs directory that
 * the user must fill, and a notice says so.
 */
import type { ContainerSpecInput } from '../spec/schema.js';
import { sharesToWeight } from '../model/cgroup.js';

/** Where an imported image's rootfs is expected: IMAGES_DIR/IMAGE. */
export const IMAGES_DIR = '/var/lib/unshared/images';

/** An import that cannot be done faithfully: every reason, one a line. */
export class ImportError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`unshared: cannot import ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ImportError';
  }
}

export interface Imported {
  spec: ContainerSpecInput;
  /** Things the user must know or do (printed on stderr). */
  notices: string[];
}

/** docker run's flags that take no value (so the next word is not theirs). */
const BOOLEAN_FLAGS = new Set([
  '-d', '--detach', '-i', '--interactive', '-t', '--tty', '--rm', '--privileged', '--read-only', '--init',
  '-P', '--publish-all', '--no-healthcheck', '--oom-kill-disable', '--sig-proxy', '--disable-content-trust', '-q', '--quiet',
]);

/** Short flags with a value, by their long name. */
const SHORT: Record<string, string> = {
  '-e': '--env', '-h': '--hostname', '-m': '--memory', '-p': '--publish', '-u': '--user', '-v': '--volume', '-w': '--workdir',
  '-l': '--label', '-c': '--cpu-shares',
};

/** Why some common flags cannot be imported (others get a generic reason). */
const REASONS: Record<string, string> = {
  '-d': 'the script runs in the foreground; run it under systemd (--target systemd) or nohup',
  '--detach': 'the script runs in the foreground; run it under systemd (--target systemd) or nohup',
  '-t': 'the script does not allocate a terminal',
  '--tty': 'the script does not allocate a terminal',
  '--privileged': 'give the capabilities you need with --cap-add instead',
  '-P': 'publish each port with -p HOST:CONTAINER',
  '--publish-all': 'publish each port with -p HOST:CONTAINER',
  '--env-file': 'pass each variable with -e NAME=VALUE',
  '--mount': 'use -v HOST:CONTAINER[:ro] or --tmpfs PATH',
  '--init': 'the spec has no init process option',
};

function sizeOf(text: string): string | number {
  return /^[0-9]+$/.test(text) ? Number(text) : text;
}

/** The default name of an image's container: its last path component, without tag or digest. */
function nameFromImage(image: string): string {
  const last = image.replace(/@.*$/, '').split('/').pop()!.replace(/:.*$/, '');
  return last.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63) || 'container';
}

/** Turns the words after `docker run` into a spec; throws ImportError listing what cannot map. */
export function importDockerRun(args: readonly string[]): Imported {
  const unsupported: string[] = [];
  const notices: string[] = [];
  const spec: Record<string, unknown> = {};
  const env: Record<string, string> = {};
  const limits: Record<string, unknown> = {};
  const mounts: Record<string, unknown>[] = [];
  const ports: Record<string, unknown>[] = [];
  const add: string[] = [];
  const drop: string[] = [];
  const rlimits: Record<string, unknown> = {};
  const sysctls: Record<string, string> = {};
  const groups: number[] = [];
  const dns: string[] = [];
  const hosts: Record<string, string> = {};
  let networkMode: string | undefined;
  let entrypoint: string | undefined;
  let image: string | undefined;
  let command: string[] = [];
  const refuse = (flag: string, why: string) => unsupported.push(`${flag}: ${why}`);

  let i = 0;
  while (i < args.length) {
    const word = args[i]!;
    if (word === '--') {
      i += 1;
      break;
    }
    if (!word.startsWith('-') || word === '-') break; // the image
    let flag = word;
    let value: string | undefined;
    const eq = word.indexOf('=');
    if (word.startsWith('--') && eq > 0) {
      flag = word.slice(0, eq);
      value = word.slice(eq + 1);
    } else if (!word.startsWith('--') && word.length > 2) {
      // -it, -e=X, -eX=1, -p80:80: a run of boolean short flags, or one short flag and its value.
      const first = word.slice(0, 2);
      if (SHORT[first] !== undefined) {
        flag = first;
        value = word.slice(2).replace(/^=/, '');
      } else if ([...word.slice(1)].every((c) => BOOLEAN_FLAGS.has(`-${c}`))) {
        for (const c of word.slice(1)) handleBoolean(`-${c}`);
        i += 1;
        continue;
      }
    }
    if (BOOLEAN_FLAGS.has(flag)) {
      if (value !== undefined && !['true', 'false'].includes(value)) refuse(flag, `expected true or false, not '${value}'`);
      else if (value !== 'false') handleBoolean(flag);
      i += 1;
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= args.length) {
        refuse(flag, 'needs a value');
        i += 1;
        continue;
      }
      value = args[i + 1]!;
      i += 2;
    } else {
      i += 1;
    }
    handleValue(SHORT[flag] ?? flag, value);
  }
  if (image === undefined && i < args.length) image = args[i++];
  command = args.slice(i);

  function handleBoolean(flag: string) {
    if (flag === '--rm') {
      spec['autoRemove'] = true; // otherwise the writable layer stays until rm, as without --rm
      return;
    }
    if (flag === '--read-only') {
      spec['readonlyRootfs'] = true;
      return;
    }
    if (flag === '-i' || flag === '--interactive') return; // the script keeps stdin
    if (flag === '--sig-proxy') return; // the script passes TERM, INT and HUP on
    refuse(flag, REASONS[flag] ?? 'has no equivalent in the spec');
  }

  function handleValue(flag: string, value: string) {
    switch (flag) {
      case '--name':
        spec['name'] = value;
        return;
      case '--hostname':
        spec['hostname'] = value;
        return;
      case '--memory':
        limits['memory'] = sizeOf(value);
        return;
      case '--memory-reservation':
        limits['memoryHigh'] = sizeOf(value);
        return;
      case '--cpus': {
        const cpus = Number(value);
        if (!Number.isFinite(cpus) || value.trim() === '') refuse(flag, `expected a number of CPUs, not '${value}'`);
        else limits['cpus'] = cpus;
        return;
      }
      case '--cpu-shares': {
        const shares = Number(value);
        if (!Number.isInteger(shares) || shares < 2 || shares > 262144) refuse(flag, `expected cpu shares from 2 to 262144, not '${value}'`);
        else limits['cpuWeight'] = sharesToWeight(shares);
        return;
      }
      case '--pids-limit': {
        const pids = Number(value);
        if (!Number.isInteger(pids)) refuse(flag, `expected a whole number, not '${value}'`);
        else if (pids > 0) limits['pids'] = pids; // 0 and -1: unlimited, the default
        return;
      }
      case '--env': {
        const at = value.indexOf('=');
        if (at < 0) refuse(`-e ${value}`, `takes its value from your environment when docker runs; write -e ${value}=VALUE`);
        else env[value.slice(0, at)] = value.slice(at + 1);
        return;
      }
      case '--workdir':
        spec['workdir'] = value;
        return;
      case '--user': {
        if (/^[0-9]+:[0-9]+$/.test(value)) spec['user'] = value;
        else if (/^[0-9]+$/.test(value)) {
          spec['user'] = `${value}:0`;
          notices.push(`-u ${value}: runs as ${value}:0 (docker takes the group from the image's /etc/passwd; set user to 'uid:gid' if it differs)`);
        } else refuse(`-u ${value}`, "user names are not resolved: use numeric 'uid:gid' from the image's /etc/passwd");
        return;
      }
      case '--volume': {
        const parts = value.split(':');
        if (!value.startsWith('/') && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(parts[0]!) && parts.length >= 2 && parts.length <= 3 && (parts[2] === undefined || ['ro', 'rw'].includes(parts[2]))) {
          mounts.push({ type: 'volume', name: parts[0], target: parts[1], ...(parts[2] === 'ro' ? { readonly: true } : {}) });
        } else if (!value.startsWith('/')) {
          refuse(`-v ${value}`, 'expected a host directory or a volume name, then :CONTAINER[:ro|rw] (an anonymous volume has no equivalent)');
        } else if (parts.length < 2 || parts.length > 3 || (parts[2] !== undefined && !['ro', 'rw'].includes(parts[2]))) {
          refuse(`-v ${value}`, "expected HOST:CONTAINER or HOST:CONTAINER:ro|rw (other options such as z, Z or propagation have no equivalent)");
        } else {
          mounts.push({ type: 'bind', source: parts[0], target: parts[1], ...(parts[2] === 'ro' ? { readonly: true } : {}) });
        }
        return;
      }
      case '--tmpfs': {
        const [target, options] = [value.split(':')[0]!, value.split(':').slice(1).join(':')];
        const mount: Record<string, unknown> = { type: 'tmpfs', target };
        for (const option of options === '' ? [] : options.split(',')) {
          const [key, v] = option.split('=');
          if (key === 'size' && v !== undefined) mount['size'] = sizeOf(v);
          else if (key === 'mode' && v !== undefined) mount['mode'] = v;
          else if (!['rw', 'nosuid', 'nodev'].includes(option)) refuse(`--tmpfs ${value}`, `the option '${option}' has no equivalent (size= and mode= do)`);
        }
        mounts.push(mount);
        return;
      }
      case '--publish': {
        const match = /^(?:([0-9]+):)([0-9]+)(?:\/(tcp|udp))?$/.exec(value);
        if (!match) {
          refuse(`-p ${value}`, 'expected HOST_PORT:CONTAINER_PORT[/tcp|udp] (host addresses, ranges and random ports have no equivalent)');
        } else {
          ports.push({ host: Number(match[1]), container: Number(match[2]), ...(match[3] === 'udp' ? { protocol: 'udp' } : {}) });
        }
        return;
      }
      case '--network':
      case '--net':
        if (['none', 'host', 'bridge'].includes(value)) networkMode = value;
        else refuse(`--network ${value}`, "only 'none', 'host' and 'bridge' have an equivalent (user-defined networks do not)");
        return;
      case '--cap-add':
        add.push(value);
        return;
      case '--cap-drop':
        drop.push(value);
        return;
      case '--ulimit': {
        const match = /^([a-z]+)=(-?[0-9]+)(?::(-?[0-9]+))?$/.exec(value);
        if (!match) {
          refuse(`--ulimit ${value}`, 'expected NAME=SOFT[:HARD], e.g. nofile=1024:2048');
        } else {
          const amount = (n: string) => (Number(n) < 0 ? 'unlimited' : Number(n));
          const soft = amount(match[2]!);
          const hard = match[3] === undefined ? soft : amount(match[3]);
          rlimits[match[1]!] = soft === hard ? soft : { soft, hard };
        }
        return;
      }
      case '--entrypoint':
        entrypoint = value;
        return;
      case '--stop-timeout':
        spec['stopTimeout'] = Number(value);
        return;
      case '--restart':
        if (['no', 'on-failure', 'always'].includes(value)) spec['restart'] = value;
        else refuse(`--restart ${value}`, "only 'no', 'on-failure' and 'always' have an equivalent");
        return;
      case '--sysctl': {
        const at = value.indexOf('=');
        if (at < 0) refuse(`--sysctl ${value}`, 'expected NAME=VALUE');
        else sysctls[value.slice(0, at)] = value.slice(at + 1);
        return;
      }
      case '--group-add':
        if (/^[0-9]+$/.test(value)) groups.push(Number(value));
        else refuse(`--group-add ${value}`, 'group names are not resolved: use the numeric id');
        return;
      case '--dns':
        dns.push(value);
        return;
      case '--add-host': {
        const at = value.indexOf(':');
        if (at < 0) refuse(`--add-host ${value}`, 'expected NAME:ADDRESS');
        else hosts[value.slice(0, at)] = value.slice(at + 1);
        return;
      }
      case '--cgroup-parent':
        spec['cgroupParent'] = value.replace(/^\/+/, '');
        return;
      case '--security-opt':
        if (value === 'no-new-privileges' || value === 'no-new-privileges:true' || value === 'no-new-privileges=true') spec['noNewPrivileges'] = true;
        else refuse(`--security-opt ${value}`, 'only no-new-privileges has an equivalent');
        return;
      default:
        refuse(`${flag} ${value}`, REASONS[flag] ?? 'has no equivalent in the spec');
    }
  }

  if (image === undefined) unsupported.push('the image: docker run needs an image after its options');
  if (unsupported.length > 0) throw new ImportError('this docker run command', unsupported);

  const result: Record<string, unknown> = {
    name: spec['name'] ?? nameFromImage(image!),
    image,
    rootfs: { dir: `${IMAGES_DIR}/${image}` },
  };
  if (spec['name'] === undefined) notices.push(`no --name: the container is named '${result['name']}' after its image`);
  notices.push(`the rootfs must be provided: unpack the image ${image} into ${IMAGES_DIR}/${image} (e.g. docker export, or skopeo + umoci), or change rootfs.dir`);
  for (const key of ['hostname', 'user', 'workdir'] as const) if (spec[key] !== undefined) result[key] = spec[key];
  if (entrypoint !== undefined) result['command'] = [entrypoint, ...command];
  else if (command.length > 0) {
    result['command'] = command;
    notices.push("the command replaces the image's CMD; an image ENTRYPOINT is not known here: add it with --entrypoint if the image has one");
  } else notices.push("no command given: the image's ENTRYPOINT and CMD are not known here, so the spec runs /bin/sh; set command");
  if (Object.keys(env).length > 0) result['env'] = env;
  if (Object.keys(limits).length > 0) result['limits'] = limits;
  if (mounts.length > 0) result['mounts'] = mounts;
  if (add.length > 0 || drop.length > 0) result['capabilities'] = { add, drop };
  if (spec['noNewPrivileges'] !== undefined) result['noNewPrivileges'] = spec['noNewPrivileges'];
  if (groups.length > 0) result['groups'] = groups;
  if (Object.keys(rlimits).length > 0) result['rlimits'] = rlimits;
  if (Object.keys(sysctls).length > 0) result['sysctls'] = sysctls;
  for (const key of ['cgroupParent', 'stopTimeout', 'restart', 'readonlyRootfs', 'autoRemove'] as const) if (spec[key] !== undefined) result[key] = spec[key];
  // docker's default network is the bridge; its namespaces are the spec's default ones.
  const mode = networkMode ?? 'bridge';
  if (mode === 'host') result['namespaces'] = ['pid', 'mount', 'uts', 'ipc', 'cgroup'];
  const network: Record<string, unknown> = { mode };
  if (ports.length > 0) network['ports'] = ports;
  if (dns.length > 0) network['dns'] = dns;
  if (Object.keys(hosts).length > 0) network['hosts'] = hosts;
  if (mode === 'bridge') network['nat'] = true; // docker masquerades its bridge's traffic
  result['network'] = network;
  return { spec: result as ContainerSpecInput, notices };
}
