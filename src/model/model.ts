/**
 * The resolved plan of a container: every decision taken, every value converted, every name
 * derived. Plain data, no shell syntax: the templates only place these values.
 */
import { CGROUP_PARENT_ERE, DEFAULT_PATH, ENV_NAME_ERE, RESERVED_ENV_NAMES, type ContainerSpec, type Namespace, type RestartPolicy } from '../spec/schema.js';
import { parseSize } from '../spec/units.js';
import { V1_HIERARCHY, cgroupControllers, cgroupV1Writes, cgroupV2Writes, resolveResources, type CgroupWrite, type ResourcesModel } from './cgroup.js';
import { MASKED_PROC_PATHS, MASKED_SYSFS_PATHS, READONLY_PROC_PATHS, resolveSecurity, type SecurityModel } from './security.js';
import { resolveNetwork, type NetworkModel } from './network.js';
import { requiredTools, type Tool } from './tools.js';
import { hostIdOf, resolveIdMaps, type IdRange } from '../spec/userns.js';

export interface EnvVar {
  name: string;
  value: string;
}

/** A mount made inside the container's mount namespace before it pivots into the rootfs. */
export interface MountStep {
  /** Where the spec declared it, for error messages: `mounts[2]`. */
  origin: string;
  target: string;
  /** A bind mount of a host path; a file source needs the target's parent directory. */
  bind?: { source: string; readonly: boolean; targetParent: string };
  /** A fresh filesystem instance (tmpfs, sysfs). */
  fs?: { type: string; options: string };
}

/** The user namespace: its id maps, and the host ids the container's root maps to. */
export interface UsernsModel {
  uidRanges: IdRange[];
  gidRanges: IdRange[];
  /** uid_map and gid_map as the kernel takes them: one `INSIDE HOST SIZE` line per range, in one write. */
  uidMap: string;
  gidMap: string;
  /** The host uid and gid of root in the container: unshare runs as them, so that they own the namespaces. */
  rootUid: number;
  rootGid: number;
  /**
   * setpriv's options where setgroups(2) is denied (a normal user's single-id map): the same,
   * keeping the supplementary groups instead of clearing them, which the kernel then refuses.
   */
  setprivArgsKeepGroups: string[];
  /** A normal user can run it: the maps then hold only that user's ids, as root. */
  rootlessUser: boolean;
}

export interface ContainerModel {
  name: string;
  /** null when the container shares the host's UTS namespace. */
  hostname: string | null;
  command: string[];
  env: EnvVar[];
  workdir: string;
  namespaces: Record<Namespace, boolean>;
  /** The user namespace's maps, or null without 'user' in namespaces. */
  userns: UsernsModel | null;
  /** Arguments to unshare(1) that create the namespaces. */
  unshareArgs: string[];
  rootfs: { dir: string } | { tar: string };
  cgroup: {
    parent: string;
    /** The script checks UNSHARED_CGROUP_PARENT against this (a POSIX ERE). */
    parentPattern: string;
    controllers: { name: string; v1Name: string; required: boolean }[];
    v1: (CgroupWrite & { v1Name: string })[];
    v2: CgroupWrite[];
    /** The spec sets limits (a rootless run cannot apply them). */
    limited: boolean;
  };
  mounts: MountStep[];
  /** Device nodes copied from the host into the container's /dev (a tmpfs). */
  devices: string[];
  /** Symlinks in the container's /dev: name -> target. */
  deviceLinks: { name: string; target: string }[];
  /** Paths hidden from the container: files behind /dev/null, directories behind an empty read-only tmpfs. */
  maskedPaths: string[];
  /** Paths bound onto themselves read-only. */
  readonlyPaths: string[];
  /**
   * Where the container's own cgroups appear read-only (below its sysfs mount, with the cgroup
   * namespace: the container's cgroup is their root), or null.
   */
  cgroupfs: string | null;
  /** Kernel parameters of the container's namespaces, written into /proc/sys before it turns read-only. */
  sysctls: { key: string; path: string; value: string }[];
  /** Capabilities, no_new_privs, user, groups and rlimits of the container's process. */
  security: SecurityModel;
  tools: Tool[];
  stopTimeout: number;
  /** network: the mode, the bridge plan, the container's /etc/hosts and /etc/resolv.conf. */
  network: NetworkModel;
  /** Where the per-container state directories live; UNSHARED_STATE_DIR overrides it. */
  stateRoot: string;
  /** `exec -e NAME=VALUE` is checked at run time against the spec's own rules for env names. */
  envNamePattern: string;
  reservedEnvNames: string[];
  /** The limits as numbers, for targets that take values rather than cgroup files (OCI, Kubernetes). */
  resources: ResourcesModel;
  /** The service manager's restart policy (systemd, Kubernetes). */
  restart: RestartPolicy;
  /** The image reference for targets that pull images, or null. */
  image: string | null;
  /** Copies to run (a Kubernetes Deployment), or null for one Pod. */
  replicas: number | null;
}

/** The default root of the state directories: one per container, on the host's tmpfs. */
export const DEFAULT_STATE_ROOT = '/run/unshared';

const NAMESPACE_FLAGS: Record<Namespace, string> = {
  pid: '--pid', net: '--net', mount: '--mount', uts: '--uts', ipc: '--ipc', user: '--user', cgroup: '--cgroup', time: '--time',
};
const NAMESPACE_ORDER: Namespace[] = ['user', 'mount', 'pid', 'uts', 'ipc', 'net', 'cgroup', 'time'];

/** `namedNet`: the network namespace is made beforehand (bridge mode) and entered with nsenter. */
function unshareArgs(enabled: Record<Namespace, boolean>, timeOffsets: ContainerSpec['timeOffsets'], namedNet: boolean): string[] {
  const args = NAMESPACE_ORDER.filter((ns) => enabled[ns] && !(ns === 'net' && namedNet)).map((ns) => NAMESPACE_FLAGS[ns]);
  // The `=` form: a negative offset is not taken for an option.
  if (timeOffsets?.monotonic !== undefined) args.push(`--monotonic=${timeOffsets.monotonic}`);
  if (timeOffsets?.boottime !== undefined) args.push(`--boottime=${timeOffsets.boottime}`);
  // Without --fork: the script forks the pid namespace's first process itself (see launch).
  args.push('--propagation', 'private');
  return args;
}

function mountSteps(spec: ContainerSpec): MountStep[] {
  return spec.mounts.map((m, i): MountStep => {
    const origin = `mounts[${i}]`;
    switch (m.type) {
      case 'bind':
        return {
          origin,
          target: m.target,
          bind: { source: m.source, readonly: m.readonly ?? false, targetParent: m.target.slice(0, m.target.lastIndexOf('/')) || '/' },
        };
      case 'tmpfs': {
        const options = ['nosuid', 'nodev', `mode=${m.mode ?? '1777'}`];
        if (m.size !== undefined) options.push(`size=${parseSize(m.size)}`);
        return { origin, target: m.target, fs: { type: 'tmpfs', options: options.join(',') } };
      }
      case 'sysfs':
        return {
          origin,
          target: m.target ?? '/sys',
          fs: { type: 'sysfs', options: [(m.readonly ?? true) ? 'ro' : 'rw', 'nosuid', 'nodev', 'noexec'].join(',') },
        };
    }
  });
}

function resolveUserns(spec: ContainerSpec, security: SecurityModel): UsernsModel | null {
  if (!spec.namespaces.includes('user')) return null;
  const { uidMap, gidMap } = resolveIdMaps(spec.userns);
  const text = (ranges: IdRange[]) => ranges.map((r) => `${r.containerId} ${r.hostId} ${r.size}\n`).join('');
  return {
    uidRanges: uidMap,
    gidRanges: gidMap,
    uidMap: text(uidMap),
    gidMap: text(gidMap),
    rootUid: hostIdOf(uidMap, 0),
    rootGid: hostIdOf(gidMap, 0),
    setprivArgsKeepGroups: security.setprivArgs.map((a) => (a === '--clear-groups' ? '--keep-groups' : a)),
    rootlessUser: security.uid === 0 && security.gid === 0 && security.groups.length === 0,
  };
}

/** `SYSFS/fs/cgroup` of the first sysfs mount, with the cgroup namespace; else null. */
function cgroupfsTarget(spec: ContainerSpec, namespaces: Record<Namespace, boolean>): string | null {
  const sysfs = spec.mounts.find((m) => m.type === 'sysfs');
  if (!namespaces.cgroup || sysfs === undefined) return null;
  return `${sysfs.target ?? '/sys'}/fs/cgroup`;
}

/** Turns a validated spec into the plan that every target renders. */
export function resolveModel(spec: ContainerSpec): ContainerModel {
  const namespaces = Object.fromEntries(
    (Object.keys(NAMESPACE_FLAGS) as Namespace[]).map((ns) => [ns, spec.namespaces.includes(ns)]),
  ) as Record<Namespace, boolean>;
  const env: EnvVar[] = Object.entries(spec.env).map(([name, value]) => ({ name, value }));
  if (!('PATH' in spec.env)) env.unshift({ name: 'PATH', value: DEFAULT_PATH });
  const rootfs = 'dir' in spec.rootfs ? { dir: spec.rootfs.dir } : { tar: spec.rootfs.tar };
  const hostname = namespaces.uts ? (spec.hostname ?? spec.name) : null;
  const network = resolveNetwork(spec, hostname);
  const security = resolveSecurity(spec);
  const userns = resolveUserns(spec, security);

  return {
    name: spec.name,
    hostname,
    command: spec.command,
    env,
    workdir: spec.workdir,
    namespaces,
    userns,
    unshareArgs: unshareArgs(namespaces, spec.timeOffsets, network.bridge !== null),
    rootfs,
    cgroup: {
      parent: spec.cgroupParent,
      parentPattern: CGROUP_PARENT_ERE,
      controllers: cgroupControllers(spec.limits).map((c) => ({ ...c, v1Name: V1_HIERARCHY[c.name] })),
      v1: cgroupV1Writes(spec.limits).map((w) => ({ ...w, v1Name: V1_HIERARCHY[w.controller] })),
      v2: cgroupV2Writes(spec.limits),
      limited: cgroupV2Writes(spec.limits).length > 0,
    },
    mounts: mountSteps(spec),
    devices: ['null', 'zero', 'full', 'random', 'urandom', 'tty'],
    deviceLinks: [
      { name: 'fd', target: '/proc/self/fd' },
      { name: 'stdin', target: '/proc/self/fd/0' },
      { name: 'stdout', target: '/proc/self/fd/1' },
      { name: 'stderr', target: '/proc/self/fd/2' },
      { name: 'ptmx', target: 'pts/ptmx' },
    ],
    maskedPaths: [
      ...MASKED_PROC_PATHS,
      ...spec.mounts.filter((m) => m.type === 'sysfs').flatMap((m) => MASKED_SYSFS_PATHS.map((p) => `${m.target ?? '/sys'}${p}`)),
    ],
    readonlyPaths: READONLY_PROC_PATHS,
    cgroupfs: cgroupfsTarget(spec, namespaces),
    sysctls: Object.entries(spec.sysctls).map(([key, value]) => ({ key, path: `/proc/sys/${key.replaceAll('.', '/')}`, value: String(value) })),
    security,
    tools: requiredTools({
      tar: 'tar' in rootfs, net: namespaces.net, fileBinds: spec.mounts.some((m) => m.type === 'bind') || network.files, bridge: network.bridge !== null,
      userns: userns !== null, hostname: userns !== null && hostname !== null,
    }),
    stopTimeout: spec.stopTimeout,
    network,
    stateRoot: DEFAULT_STATE_ROOT,
    envNamePattern: ENV_NAME_ERE,
    reservedEnvNames: [...RESERVED_ENV_NAMES],
    resources: resolveResources(spec.limits),
    restart: spec.restart,
    image: spec.image ?? null,
    replicas: spec.replicas ?? null,
  };
}
