/**
 * The OCI target: an OCI runtime bundle's config.json (runtime spec 1.0.2), for runc, crun or
 * any OCI runtime. Built as a JSON object from the model, not from a template: the model's
 * values are placed, nothing is decided here but the OCI spelling of each.
 *
 * Mapping notes:
 * - cgroupsPath is `/PARENT/NAME`: with the cgroupfs driver the runtime creates it under the
 *   root of every hierarchy, where the script puts its own cgroup.
 * - The time namespace, bridge networking and clock offsets have no OCI 1.0.2 field: the
 *   target refuses such specs (the runtime's caller sets up networking, e.g. with CNI).
 * - A tarball rootfs is refused: a bundle's root is a directory (unpack it first).
 */
import type { ContainerModel } from '../model/model.js';
import type { Namespace } from '../spec/schema.js';
import { RLIMITS } from '../spec/security.js';
import { TargetError } from './target.js';

export const OCI_VERSION = '1.0.2';

/** OCI's names of the namespaces. */
const OCI_NAMESPACE: Record<Namespace, string> = {
  pid: 'pid', net: 'network', mount: 'mount', uts: 'uts', ipc: 'ipc', user: 'user', cgroup: 'cgroup', time: 'time',
};
const NAMESPACE_ORDER: Namespace[] = ['pid', 'net', 'ipc', 'uts', 'mount', 'cgroup'];

/** RLIM_INFINITY (2^64-1) does not fit a JavaScript number: a placeholder replaced in the text. */
const UNLIMITED = '@@RLIM_INFINITY@@';

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

/** The mounts every container gets (as the script makes them), then the spec's, in order. */
export function ociMounts(model: ContainerModel): OciMount[] {
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
  ];
  if (model.namespaces.ipc) {
    mounts.push({ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] });
  }
  for (const m of model.mounts) {
    if (m.bind) {
      mounts.push({ destination: m.target, type: 'bind', source: m.bind.source, options: ['rbind', 'rprivate', m.bind.readonly ? 'ro' : 'rw'] });
    } else if (m.fs) {
      mounts.push({ destination: m.target, type: m.fs.type, source: m.fs.type, options: m.fs.options.split(',') });
    }
  }
  return mounts;
}

function problems(model: ContainerModel): string[] {
  const found: string[] = [];
  if ('tar' in model.rootfs) found.push('rootfs.tar: an OCI bundle\'s root is a directory; unpack the tarball and use rootfs.dir');
  if ('layers' in model.rootfs) found.push("rootfs: an OCI bundle's root is one directory; image sources (url, oci, layers) are fetched and stacked by the generated script (or unpack the image and use rootfs.dir)");
  if (model.namespaces.time) found.push("namespaces: 'time' has no field in OCI runtime spec 1.0.2; remove it (and timeOffsets)");
  if (model.network.bridge) {
    found.push("network.mode: 'bridge' is set up by the runtime's caller (a CNI plugin, for example), not by config.json; use 'none' or 'host'");
  }
  if (!model.network.bridge && model.network.files) found.push('network.dns, network.hosts: bind-mount your own /etc/resolv.conf and /etc/hosts with mounts instead');
  return found;
}

function rlimitValue(name: keyof typeof RLIMITS, value: string): number | string {
  if (value === 'unlimited') return UNLIMITED;
  return RLIMITS[name].unit === 'kib' ? Number(value) * 1024 : Number(value);
}

/** The config.json object (without the RLIM_INFINITY placeholder replaced). */
export function ociConfig(model: ContainerModel): Record<string, unknown> {
  const found = problems(model);
  if (found.length > 0) throw new TargetError('oci', found);
  const sec = model.security;
  const caps = sec.capabilities.map((c) => `CAP_${c.toUpperCase()}`);
  const r = model.resources;

  const resources: Record<string, unknown> = { devices: [{ allow: false, access: 'rwm' }] };
  const memory: Record<string, number> = {};
  if (r.memory !== null) memory['limit'] = r.memory;
  if (r.memoryHigh !== null) memory['reservation'] = r.memoryHigh;
  if (Object.keys(memory).length > 0) resources['memory'] = memory;
  const cpu: Record<string, number> = {};
  if (r.cpuShares !== null) cpu['shares'] = r.cpuShares;
  if (r.cpuQuota !== null) cpu['quota'] = r.cpuQuota;
  if (r.cpuPeriod !== null) cpu['period'] = r.cpuPeriod;
  if (Object.keys(cpu).length > 0) resources['cpu'] = cpu;
  if (r.pids !== null) resources['pids'] = { limit: r.pids };
  if (r.io.length > 0) {
    const throttle = (pick: (io: (typeof r.io)[number]) => number | null) =>
      r.io.filter((io) => pick(io) !== null).map((io) => ({ major: io.major, minor: io.minor, rate: pick(io)! }));
    const blockIO: Record<string, unknown> = {};
    for (const [key, pick] of [
      ['throttleReadBpsDevice', (io: (typeof r.io)[number]) => io.readBps],
      ['throttleWriteBpsDevice', (io: (typeof r.io)[number]) => io.writeBps],
      ['throttleReadIOPSDevice', (io: (typeof r.io)[number]) => io.readIops],
      ['throttleWriteIOPSDevice', (io: (typeof r.io)[number]) => io.writeIops],
    ] as const) {
      const list = throttle(pick);
      if (list.length > 0) blockIO[key] = list;
    }
    resources['blockIO'] = blockIO;
  }

  const process: Record<string, unknown> = {
    terminal: false,
    user: { uid: sec.uid, gid: sec.gid, ...(sec.groups.length > 0 ? { additionalGids: sec.groups } : {}) },
    args: model.command,
    env: model.env.map((e) => `${e.name}=${e.value}`),
    cwd: model.workdir,
    capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
    noNewPrivileges: sec.noNewPrivileges,
  };
  if (sec.rlimits.length > 0) {
    process['rlimits'] = sec.rlimits.map((l) => ({
      type: `RLIMIT_${l.name.toUpperCase()}`,
      hard: rlimitValue(l.name, l.hard),
      soft: rlimitValue(l.name, l.soft),
    }));
  }

  const linux: Record<string, unknown> = {
    namespaces: NAMESPACE_ORDER.filter((ns) => model.namespaces[ns]).map((ns) => ({ type: OCI_NAMESPACE[ns] })),
    cgroupsPath: `/${model.cgroup.parent}/${model.name}`,
    resources,
  };
  if (model.sysctls.length > 0) linux['sysctl'] = Object.fromEntries(model.sysctls.map((s) => [s.key, s.value]));
  linux['maskedPaths'] = model.maskedPaths;
  linux['readonlyPaths'] = model.readonlyPaths;

  return {
    ociVersion: OCI_VERSION,
    process,
    root: { path: (model.rootfs as { dir: string }).dir, readonly: false },
    ...(model.hostname !== null ? { hostname: model.hostname } : {}),
    mounts: ociMounts(model),
    linux,
  };
}

export function renderOci(model: ContainerModel): string {
  return `${JSON.stringify(ociConfig(model), null, 2).replaceAll(`"${UNLIMITED}"`, '18446744073709551615')}\n`;
}
