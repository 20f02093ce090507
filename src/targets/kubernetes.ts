/**
 * The Kubernetes target: a Pod manifest, or a Deployment when the spec sets `replicas`.
 *
 * Mapping (what is not listed here is refused with a TargetError naming the field):
 * - image (required) replaces rootfs: the cluster pulls the image; rootfs stays the host's form.
 * - command -> command (the image's ENTRYPOINT and CMD are replaced, as the script does);
 *   env -> env; workdir -> workingDir; stopTimeout -> terminationGracePeriodSeconds;
 *   restart -> restartPolicy (no: Never, on-failure: OnFailure, always: Always).
 * - limits.memory -> limits.memory; limits.cpus -> limits.cpu; limits.memoryHigh ->
 *   requests.memory; limits.cpuWeight -> requests.cpu (the kubelet turns requests.cpu into
 *   cpu.shares = millicores * 1024 / 1000: the same shares the script writes).
 * - capabilities -> drop ALL, add the resolved set (independent of the runtime's defaults);
 *   user -> runAsUser/runAsGroup; groups -> supplementalGroups; noNewPrivileges ->
 *   allowPrivilegeEscalation: false; sysctls -> the pod's sysctls.
 * - namespaces: no 'net' -> hostNetwork (and then no 'uts': the pod has the node's hostname),
 *   no 'pid' -> hostPID, no 'ipc' -> hostIPC; 'cgroup' is the kubelet's choice.
 * - mounts: bind -> hostPath volume; tmpfs -> emptyDir with medium Memory (and sizeLimit);
 *   a read-only sysfs on /sys is what every container gets.
 * - network.ports -> containerPort + hostPort; dns -> dnsPolicy None + dnsConfig;
 *   hosts -> hostAliases; nat is what pod networking does anyway.
 * - cgroupParent, maskedPaths, readonlyPaths: the kubelet and the runtime decide (their
 *   defaults mask and freeze the same /proc paths).
 */
import { yaml } from '../lazy.js';
import type { ContainerModel } from '../model/model.js';
import { DEFAULT_BRIDGE, DEFAULT_SUBNET } from '../spec/network.js';
import { TargetError } from './target.js';

const RESTART_POLICY = { no: 'Never', 'on-failure': 'OnFailure', always: 'Always' } as const;
/** A Kubernetes object name (RFC 1123 label: container names must be labels too). */
const K8S_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const K8S_LABEL = K8S_NAME;

/** Bytes as a quantity: `64Mi` when it divides, else plain bytes. */
export function bytesQuantity(bytes: number): string {
  for (const [suffix, size] of [['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) {
    if (bytes % size === 0) return `${bytes / size}${suffix}`;
  }
  return String(bytes);
}

/** CPUs as millicores: 0.5 -> `500m`. */
export function cpuQuantity(cpus: number): string {
  return `${Math.round(cpus * 1000)}m`;
}

/** The options of a tmpfs mount, as the model writes them (`nosuid,nodev,mode=1777,size=N`). */
function option(options: string, key: string): string | undefined {
  return options.split(',').find((o) => o.startsWith(`${key}=`))?.slice(key.length + 1);
}

export function kubernetesObject(model: ContainerModel): Record<string, unknown> {
  const problems: string[] = [];
  const refuse = (message: string) => problems.push(message);
  const { security: sec, resources: r, network } = model;

  if (model.image === null) refuse("image: required for the kubernetes target (the cluster pulls an image; rootfs is the host's form of it), e.g. image: 'nginx:1.27'");
  if (!K8S_NAME.test(model.name)) refuse(`name: '${model.name}' is not a Kubernetes name: lowercase letters, digits and '-', at most 63`);
  if (model.userns) refuse("namespaces: 'user': the kubelet picks a pod's id mapping (hostUsers: false), not the spec; remove 'user' and userns");
  if (model.namespaces.time) refuse("namespaces: 'time' has no Kubernetes equivalent; remove it (and timeOffsets)");
  if (!model.namespaces.net && model.namespaces.uts) {
    refuse("namespaces: without 'net' the pod uses the node's network (hostNetwork) and the node's hostname too: remove 'uts' (and hostname), or add 'net'");
  }
  if (model.hostname !== null && model.namespaces.net && !K8S_LABEL.test(model.hostname)) {
    refuse(`hostname: '${model.hostname}' must be one lowercase DNS label for a pod (letters, digits, '-')`);
  }
  if (r.pids !== null) refuse('limits.pids: Kubernetes limits processes per node (the kubelet\'s podPidsLimit), not per pod; remove it');
  if (r.io.length > 0) refuse('limits.io: Kubernetes has no block I/O limits; remove them');
  if (r.cpuWeight !== null && r.cpus !== null && r.cpuShares! * 1000 / 1024 > r.cpus * 1000) {
    refuse(`limits.cpuWeight: it becomes requests.cpu ${Math.ceil((r.cpuShares! * 1000) / 1024)}m, above limits.cpu ${cpuQuantity(r.cpus)}: lower it or raise cpus`);
  }
  if (sec.rlimits.length > 0) refuse('rlimits: Kubernetes has no per-container rlimits (the runtime\'s defaults apply); remove them');
  if (model.replicas !== null && model.restart !== 'always') {
    refuse(`restart: a Deployment (replicas is set) always restarts its pods: set restart: 'always', not '${model.restart}'`);
  }
  const bridge = network.bridge;
  if (bridge) {
    if (bridge.ip !== null) refuse('network.ip: the cluster\'s network plugin assigns pod addresses; remove it');
    if (bridge.name !== DEFAULT_BRIDGE) refuse('network.bridge: the cluster\'s network plugin wires pods; remove it');
    if (bridge.subnet !== DEFAULT_SUBNET) refuse('network.subnet: the cluster\'s network plugin assigns pod addresses; remove it');
  }

  const volumes: Record<string, unknown>[] = [];
  const volumeMounts: Record<string, unknown>[] = [];
  model.mounts.forEach((m, i) => {
    const volume = `volume-${i}`;
    if (m.bind) {
      if (m.volume !== undefined) refuse(`${m.origin}: a named volume is a PersistentVolumeClaim in a cluster; make one and mount it, or bind a host path`);
      const flags = m.bind.options.split(',').filter((f) => f !== '' && f !== 'ro');
      if (flags.length > 0) refuse(`${m.origin}: a hostPath volume cannot be mounted ${flags.join(', ')}; remove ${flags.join(', ')}`);
      volumes.push({ name: volume, hostPath: { path: m.bind.source } });
      volumeMounts.push({ name: volume, mountPath: m.target, ...(m.bind.readonly ? { readOnly: true } : {}) });
    } else if (m.fs?.type === 'tmpfs') {
      const mode = option(m.fs.options, 'mode');
      if (mode !== '1777') refuse(`${m.origin}.mode: an emptyDir's mode is always 1777; remove mode '${mode}'`);
      const size = option(m.fs.options, 'size');
      volumes.push({ name: volume, emptyDir: { medium: 'Memory', ...(size !== undefined ? { sizeLimit: bytesQuantity(Number(size)) } : {}) } });
      volumeMounts.push({ name: volume, mountPath: m.target });
    } else if (m.fs?.type === 'sysfs') {
      if (m.target !== '/sys' || !m.fs.options.split(',').includes('ro')) {
        refuse(`${m.origin}: every container gets a read-only sysfs on /sys; another target or a writable sysfs has no equivalent`);
      }
    }
  });

  if (problems.length > 0) throw new TargetError('kubernetes', problems);

  const limits: Record<string, string> = {};
  const requests: Record<string, string> = {};
  if (r.memory !== null) limits['memory'] = bytesQuantity(r.memory);
  if (r.cpus !== null) limits['cpu'] = cpuQuantity(r.cpus);
  if (r.memoryHigh !== null) requests['memory'] = bytesQuantity(r.memoryHigh);
  if (r.cpuShares !== null) requests['cpu'] = `${Math.ceil((r.cpuShares * 1000) / 1024)}m`;

  const container: Record<string, unknown> = {
    name: model.name,
    image: model.image,
    command: model.command,
    workingDir: model.workdir,
    env: model.env.map((e) => ({ name: e.name, value: e.value })),
  };
  if (Object.keys(limits).length + Object.keys(requests).length > 0) {
    container['resources'] = {
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
      ...(Object.keys(requests).length > 0 ? { requests } : {}),
    };
  }
  if (bridge && bridge.ports.length > 0) {
    container['ports'] = bridge.ports.map((p) => ({ containerPort: p.container, hostPort: p.host, protocol: p.protocol.toUpperCase() }));
  }
  if (volumeMounts.length > 0) container['volumeMounts'] = volumeMounts;
  container['securityContext'] = {
    capabilities: { drop: ['ALL'], ...(sec.capabilities.length > 0 ? { add: sec.capabilities.map((c) => c.toUpperCase()) } : {}) },
    runAsUser: sec.uid,
    runAsGroup: sec.gid,
    allowPrivilegeEscalation: !sec.noNewPrivileges,
    ...(model.storage.readonly ? { readOnlyRootFilesystem: true } : {}),
  };

  const podSpec: Record<string, unknown> = {};
  if (model.hostname !== null && model.namespaces.net) podSpec['hostname'] = model.hostname;
  if (!model.namespaces.net) podSpec['hostNetwork'] = true;
  if (!model.namespaces.pid) podSpec['hostPID'] = true;
  if (!model.namespaces.ipc) podSpec['hostIPC'] = true;
  podSpec['restartPolicy'] = RESTART_POLICY[model.restart];
  podSpec['terminationGracePeriodSeconds'] = model.stopTimeout;
  podSpec['containers'] = [container];
  if (volumes.length > 0) podSpec['volumes'] = volumes;
  const podSecurity: Record<string, unknown> = {};
  if (sec.groups.length > 0) podSecurity['supplementalGroups'] = sec.groups;
  if (model.sysctls.length > 0) podSecurity['sysctls'] = model.sysctls.map((s) => ({ name: s.key, value: s.value }));
  if (Object.keys(podSecurity).length > 0) podSpec['securityContext'] = podSecurity;
  if (network.resolv !== null) {
    podSpec['dnsPolicy'] = 'None';
    podSpec['dnsConfig'] = { nameservers: network.resolv.map((line) => line.replace(/^nameserver /, '')) };
  }
  const aliases = new Map<string, string[]>();
  // The model's /etc/hosts: two localhost lines, then the spec's 'ADDRESS NAME' entries.
  for (const line of network.hosts?.slice(2) ?? []) {
    const [ip, host] = line.split(' ') as [string, string];
    aliases.set(ip, [...(aliases.get(ip) ?? []), host]);
  }
  if (aliases.size > 0) podSpec['hostAliases'] = [...aliases].map(([ip, hostnames]) => ({ ip, hostnames }));

  const labels = { 'app.kubernetes.io/name': model.name };
  if (model.replicas === null) {
    return { apiVersion: 'v1', kind: 'Pod', metadata: { name: model.name, labels }, spec: podSpec };
  }
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: model.name, labels },
    spec: {
      replicas: model.replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: podSpec },
    },
  };
}

export function renderKubernetes(model: ContainerModel): string {
  return `# Generated by unshared from the spec of container ${model.name}.\n${yaml().stringify(kubernetesObject(model), { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
