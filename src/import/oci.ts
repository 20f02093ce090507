/**
 * OCI runtime bundles (config.json) as specs: the inverse of the oci target, so that
 * `import oci` then `build --target oci` gives back the same namespaces, limits and mounts.
 * What the spec cannot hold (hooks, seccomp, joined namespaces, a read-only root...) is
 * refused, every item at once, never dropped.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { DEFAULT_CAPABILITIES, CAPABILITIES, RLIMITS, type Capability } from '../spec/security.js';
import type { ContainerSpecInput } from '../spec/schema.js';
import { CPU_PERIOD_US, sharesToWeight } from '../model/cgroup.js';
import { ImportError, type Imported } from './docker-run.js';

const NAMESPACE_FROM_OCI: Record<string, string> = {
  pid: 'pid', network: 'net', mount: 'mount', uts: 'uts', ipc: 'ipc', user: 'user', cgroup: 'cgroup', time: 'time',
};
/** Mounts every container of the script gets: not part of a spec. */
const STANDARD_MOUNTS = new Set(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue']);
/** RLIM_INFINITY arrives from JSON.parse as 2^64 (rounded): anything this large is unlimited. */
const UNLIMITED_FROM = 2 ** 63;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

function option(options: string[], key: string): string | undefined {
  return options.find((o) => o.startsWith(`${key}=`))?.slice(key.length + 1);
}

/**
 * Turns a parsed config.json into a spec. `bundleDir` resolves a relative root.path; `name`
 * overrides the name taken from cgroupsPath.
 */
export function importOciConfig(config: unknown, options: { bundleDir: string; name?: string }): Imported {
  const problems: string[] = [];
  const notices: string[] = [];
  const refuse = (message: string) => problems.push(message);
  if (!isObject(config)) throw new ImportError('this OCI config', ['expected a JSON object (an OCI runtime bundle\'s config.json)']);
  const process: Json = isObject(config['process']) ? config['process'] : {};
  const linux: Json = isObject(config['linux']) ? config['linux'] : {};
  const root: Json = isObject(config['root']) ? config['root'] : {};
  const spec: Record<string, unknown> = {};

  for (const key of ['hooks', 'solaris', 'windows', 'vm']) if (config[key] !== undefined) refuse(`${key}: has no equivalent in the spec`);
  for (const key of ['seccomp', 'intelRdt', 'devices', 'mountLabel', 'rootfsPropagation', 'personality']) {
    if (linux[key] !== undefined && !(Array.isArray(linux[key]) && (linux[key] as unknown[]).length === 0)) refuse(`linux.${key}: has no equivalent in the spec`);
  }
  for (const key of ['apparmorProfile', 'selinuxLabel', 'oomScoreAdj', 'consoleSize']) {
    if (process[key] !== undefined) refuse(`process.${key}: has no equivalent in the spec`);
  }
  if (process['terminal'] === true) refuse('process.terminal: the script does not allocate a terminal');

  // Name and cgroup parent, from cgroupsPath /PARENT/NAME.
  const cgroupsPath = typeof linux['cgroupsPath'] === 'string' ? linux['cgroupsPath'].replace(/^\/+/, '') : '';
  const parts = cgroupsPath.split('/').filter(Boolean);
  spec['name'] = options.name ?? parts.at(-1) ?? 'container';
  if (options.name === undefined && parts.length === 0) notices.push("no cgroupsPath: the container is named 'container'; set name");
  if (parts.length > 1) spec['cgroupParent'] = parts.slice(0, -1).join('/');
  if (typeof config['hostname'] === 'string') spec['hostname'] = config['hostname'];

  // The root.
  if (typeof root['path'] !== 'string') refuse('root.path: missing');
  else spec['rootfs'] = { dir: isAbsolute(root['path']) ? root['path'] : resolve(options.bundleDir, root['path']) };
  if (root['readonly'] === true) spec['readonlyRootfs'] = true;

  // The process.
  const args = strings(process['args']);
  if (args.length > 0) spec['command'] = args;
  const env: Record<string, string> = {};
  for (const entry of strings(process['env'])) {
    const at = entry.indexOf('=');
    if (at <= 0) refuse(`process.env: '${entry}' is not NAME=VALUE`);
    else env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  if (Object.keys(env).length > 0) spec['env'] = env;
  if (typeof process['cwd'] === 'string' && process['cwd'] !== '/') spec['workdir'] = process['cwd'];
  const user: Json = isObject(process['user']) ? process['user'] : {};
  const uid = typeof user['uid'] === 'number' ? user['uid'] : 0;
  const gid = typeof user['gid'] === 'number' ? user['gid'] : 0;
  if (uid !== 0 || gid !== 0) spec['user'] = `${uid}:${gid}`;
  if (Array.isArray(user['additionalGids']) && user['additionalGids'].length > 0) spec['groups'] = user['additionalGids'];
  if (user['username'] !== undefined || user['umask'] !== undefined) refuse('process.user.username, umask: have no equivalent in the spec');
  spec['noNewPrivileges'] = process['noNewPrivileges'] === true;

  const caps: Json = isObject(process['capabilities']) ? process['capabilities'] : {};
  const set = (name: string) => strings(caps[name]).map((c) => c.replace(/^CAP_/, ''));
  const bounding = set('bounding');
  for (const other of ['effective', 'permitted']) {
    if (caps[other] !== undefined && [...set(other)].sort().join() !== [...bounding].sort().join()) {
      refuse(`process.capabilities.${other}: differs from bounding; the spec has one set for bounding, permitted and effective`);
    }
  }
  for (const other of ['inheritable', 'ambient']) {
    if (set(other).length > 0) refuse(`process.capabilities.${other}: must be empty (the script clears it)`);
  }
  const unknown = bounding.filter((c) => !(CAPABILITIES as readonly string[]).includes(c));
  if (unknown.length > 0) refuse(`process.capabilities.bounding: unknown capabilities ${unknown.join(', ')}`);
  const kept = new Set(bounding as Capability[]);
  const add = CAPABILITIES.filter((c) => kept.has(c) && !DEFAULT_CAPABILITIES.includes(c));
  const drop = DEFAULT_CAPABILITIES.filter((c) => !kept.has(c));
  if (add.length > 0 || drop.length > 0) {
    spec['capabilities'] = drop.length === DEFAULT_CAPABILITIES.length ? { drop: ['ALL'], add } : { add, drop };
  }

  const rlimits: Record<string, unknown> = {};
  for (const limit of Array.isArray(process['rlimits']) ? process['rlimits'] : []) {
    if (!isObject(limit) || typeof limit['type'] !== 'string') continue;
    const name = limit['type'].replace(/^RLIMIT_/, '').toLowerCase();
    if (!(name in RLIMITS)) {
      refuse(`process.rlimits: ${limit['type']} has no equivalent in the spec`);
      continue;
    }
    const amount = (v: unknown) => (typeof v === 'number' && v >= UNLIMITED_FROM ? 'unlimited' : v);
    const soft = amount(limit['soft']);
    const hard = amount(limit['hard']);
    rlimits[name] = soft === hard ? soft : { soft, hard };
  }
  if (Object.keys(rlimits).length > 0) spec['rlimits'] = rlimits;

  // Namespaces.
  const namespaces: string[] = [];
  for (const ns of Array.isArray(linux['namespaces']) ? linux['namespaces'] : []) {
    if (!isObject(ns) || typeof ns['type'] !== 'string') continue;
    const name = NAMESPACE_FROM_OCI[ns['type']];
    if (name === undefined) refuse(`linux.namespaces: unknown type '${ns['type']}'`);
    else if (ns['path'] !== undefined) refuse(`linux.namespaces: joining the existing ${ns['type']} namespace at ${String(ns['path'])} has no equivalent`);
    else namespaces.push(name);
  }
  spec['namespaces'] = namespaces;
  // The user namespace's id maps: validated with the spec (the schema names a bad range).
  const idMap = (key: 'uidMappings' | 'gidMappings') =>
    (Array.isArray(linux[key]) ? linux[key] : []).map((m: unknown) => {
      const r: Json = isObject(m) ? m : {};
      return { containerId: r['containerID'], hostId: r['hostID'], size: r['size'] };
    });
  if (idMap('uidMappings').length > 0 || idMap('gidMappings').length > 0) {
    spec['userns'] = { uidMap: idMap('uidMappings'), gidMap: idMap('gidMappings') };
  }

  // Resources.
  const resources: Json = isObject(linux['resources']) ? linux['resources'] : {};
  const limits: Record<string, unknown> = {};
  for (const key of Object.keys(resources)) {
    if (!['memory', 'cpu', 'pids', 'blockIO', 'devices'].includes(key)) refuse(`linux.resources.${key}: has no equivalent in the spec`);
  }
  const devices = Array.isArray(resources['devices']) ? resources['devices'] : [];
  if (devices.some((d) => !isObject(d) || d['allow'] !== false)) {
    notices.push('linux.resources.devices: the script always gives the same minimal /dev (null, zero, full, random, urandom, tty); other device rules are not imported');
  }
  const memory: Json = isObject(resources['memory']) ? resources['memory'] : {};
  for (const key of Object.keys(memory)) if (!['limit', 'reservation'].includes(key)) refuse(`linux.resources.memory.${key}: has no equivalent in the spec`);
  if (typeof memory['limit'] === 'number' && memory['limit'] > 0) limits['memory'] = memory['limit'];
  if (typeof memory['reservation'] === 'number' && memory['reservation'] > 0) limits['memoryHigh'] = memory['reservation'];
  const cpu: Json = isObject(resources['cpu']) ? resources['cpu'] : {};
  for (const key of Object.keys(cpu)) if (!['quota', 'period', 'shares'].includes(key)) refuse(`linux.resources.cpu.${key}: has no equivalent in the spec`);
  if (typeof cpu['quota'] === 'number' && cpu['quota'] > 0) {
    const period = typeof cpu['period'] === 'number' ? cpu['period'] : CPU_PERIOD_US;
    limits['cpus'] = Math.round((cpu['quota'] / period) * 1e6) / 1e6;
    if (period !== CPU_PERIOD_US) notices.push(`linux.resources.cpu: quota ${cpu['quota']} per ${period} µs becomes cpus ${String(limits['cpus'])} (the script's period is ${CPU_PERIOD_US} µs)`);
  }
  if (typeof cpu['shares'] === 'number') limits['cpuWeight'] = sharesToWeight(cpu['shares']);
  const pids: Json = isObject(resources['pids']) ? resources['pids'] : {};
  if (typeof pids['limit'] === 'number' && pids['limit'] > 0) limits['pids'] = pids['limit'];
  const blockIO: Json = isObject(resources['blockIO']) ? resources['blockIO'] : {};
  const io = new Map<string, Record<string, unknown>>();
  const fields: Record<string, string> = {
    throttleReadBpsDevice: 'readBps', throttleWriteBpsDevice: 'writeBps', throttleReadIOPSDevice: 'readIops', throttleWriteIOPSDevice: 'writeIops',
  };
  for (const [key, value] of Object.entries(blockIO)) {
    const field = fields[key];
    if (field === undefined) {
      refuse(`linux.resources.blockIO.${key}: has no equivalent in the spec`);
      continue;
    }
    for (const d of Array.isArray(value) ? value : []) {
      if (!isObject(d)) continue;
      const device = `${String(d['major'])}:${String(d['minor'])}`;
      io.set(device, { ...(io.get(device) ?? { device }), [field]: d['rate'] });
    }
  }
  if (io.size > 0) limits['io'] = [...io.values()];
  if (Object.keys(limits).length > 0) spec['limits'] = limits;

  if (isObject(linux['sysctl']) && Object.keys(linux['sysctl']).length > 0) spec['sysctls'] = linux['sysctl'];

  // Mounts: the standard ones are the script's own; the rest become the spec's.
  const mounts: Record<string, unknown>[] = [];
  for (const m of Array.isArray(config['mounts']) ? config['mounts'] : []) {
    if (!isObject(m) || typeof m['destination'] !== 'string') continue;
    const target = m['destination'];
    const type = typeof m['type'] === 'string' ? m['type'] : '';
    const opts = strings(m['options']);
    if (STANDARD_MOUNTS.has(target)) continue;
    if (type === 'bind' || opts.includes('bind') || opts.includes('rbind')) {
      mounts.push({ type: 'bind', source: m['source'], target, ...(opts.includes('ro') ? { readonly: true } : {}) });
    } else if (type === 'tmpfs') {
      const size = option(opts, 'size');
      const mode = option(opts, 'mode');
      mounts.push({
        type: 'tmpfs', target,
        ...(size !== undefined ? { size: /^[0-9]+$/.test(size) ? Number(size) : size } : {}),
        ...(mode !== undefined && mode !== '1777' ? { mode } : {}),
      });
    } else if (type === 'sysfs') {
      mounts.push({ type: 'sysfs', ...(target !== '/sys' ? { target } : {}), ...(opts.includes('ro') ? {} : { readonly: false }) });
    } else {
      refuse(`mounts: ${target} (type '${type}') has no equivalent in the spec (bind, tmpfs and sysfs do)`);
    }
  }
  if (mounts.length > 0) spec['mounts'] = mounts;

  if (problems.length > 0) throw new ImportError('this OCI config', problems);
  return { spec: spec as ContainerSpecInput, notices };
}

/** The bundle directory of a config.json path. */
export function bundleDirOf(configPath: string): string {
  return dirname(resolve(configPath));
}
