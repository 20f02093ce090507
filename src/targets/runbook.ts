/**
 * The runbook target: Markdown for an ops document. Numbered steps, in the order the script
 * takes them, each with why it is there and a bash block with the container's own values
 * (every value through shellQuote, as in the script). Pasted in order into a root bash shell,
 * the blocks build and run the same container, and the last one removes what the others made.
 *
 * Kept simple on purpose: standard cgroup mount points (/sys/fs/cgroup, v1 or v2), the host's
 * tools until pivot_root, and a small init (a helper that pivots while the command's process
 * waits) so that the host's setpriv can still drop the privileges. Bridge networking and the
 * network files are the script's job: the runbook refuses them.
 */
import { dirname } from 'node:path';
import type { ContainerModel } from '../model/model.js';
import { shellQuote as q } from '../render/quote.js';
import { TargetError } from './target.js';

/** Where the runbook keeps its files (the start FIFO, an unpacked tarball). */
export const RUNBOOK_STATE_ROOT = '/var/lib/unshared/runbook';

interface Step {
  title: string;
  why: string;
  code: string[];
}

const CGROUP_ROOT = '/sys/fs/cgroup';

function problems(model: ContainerModel): string[] {
  const found: string[] = [];
  if ('layers' in model.rootfs) found.push("rootfs: image sources (url, oci, layers) need the generated script (download, digest checks, layer cache, overlay); the runbook covers dir and tar");
  if (model.network.bridge) found.push("network.mode: 'bridge' needs the generated script (veth, bridge, firewall); the runbook covers 'none' and 'host'");
  else if (model.network.files) found.push('network.dns, network.hosts: the runbook does not write /etc/hosts or /etc/resolv.conf; use the generated script');
  return found;
}

/** `a/b` -> [`a`, `a/b`]: every level of the cgroup parent, outermost first. */
function parentLevels(parent: string): string[] {
  const parts = parent.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

function steps(model: ContainerModel): Step[] {
  const { name, cgroup } = model;
  const state = `${RUNBOOK_STATE_ROOT}/${name}`;
  const fifo = `${state}/start`;
  const rootfs = 'dir' in model.rootfs ? model.rootfs.dir : `${state}/rootfs`;
  const r = (path: string) => q(`${rootfs}${path}`);
  const v2Dir = `${CGROUP_ROOT}/${cgroup.parent}/${name}`;
  const v1Dirs = cgroup.controllers.map((c) => `${CGROUP_ROOT}/${c.v1Name}/${cgroup.parent}/${name}`);
  const levels = parentLevels(cgroup.parent);
  // cpuacct exists only on v1: one unknown name makes the kernel refuse the whole subtree_control write.
  const v2Controllers = cgroup.controllers.filter((c) => c.name !== 'cpuacct').map((c) => `+${c.name}`).join(' ');
  const list: Step[] = [];

  list.push({
    title: 'Check the host',
    why: 'Namespaces, cgroups and mounts need root. The steps use util-linux (unshare, setpriv, pivot_root, mount) and coreutils; the last line says which cgroup version the host runs (the cgroup steps below pick the right branch themselves).',
    code: [
      '[ "$(id -u)" = 0 ] || echo "run these steps as root"',
      `for tool in unshare setpriv pivot_root mount umount hostname cp mkfifo${model.namespaces.net ? ' ip' : ''}; do command -v "$tool" >/dev/null || echo "missing: $tool"; done`,
      `if [ -f ${CGROUP_ROOT}/cgroup.controllers ]; then echo "cgroup v2"; else echo "cgroup v1"; fi`,
    ],
  });

  list.push({
    title: "Create the container's cgroup",
    why: 'A cgroup is what the container can use: the kernel counts and limits the memory, CPU and processes of everything inside it. On cgroup v2 there is one tree, and the parent must hand its controllers down; on v1 each controller has its own tree.',
    code: [
      `if [ -f ${CGROUP_ROOT}/cgroup.controllers ]; then`,
      ...levels.map((level, i) => {
        const above = i === 0 ? CGROUP_ROOT : `${CGROUP_ROOT}/${levels[i - 1]}`;
        return `  mkdir -p ${q(`${CGROUP_ROOT}/${level}`)} && echo ${q(v2Controllers)} > ${q(`${above}/cgroup.subtree_control`)}`;
      }),
      `  echo ${q(v2Controllers)} > ${q(`${CGROUP_ROOT}/${cgroup.parent}/cgroup.subtree_control`)}`,
      `  mkdir ${q(v2Dir)}`,
      `  CGROUP_DIRS=(${q(v2Dir)})`,
      'else',
      `  mkdir -p ${v1Dirs.map(q).join(' ')}`,
      `  CGROUP_DIRS=(${v1Dirs.map(q).join(' ')})`,
      'fi',
    ],
  });

  if (cgroup.v1.length > 0) {
    list.push({
      title: 'Set the limits',
      why: 'Each limit is one write into a cgroup file; the kernel enforces it from then on (the OOM killer above the memory limit, throttling above the CPU quota, failed forks above the process limit).',
      code: [
        `if [ -f ${CGROUP_ROOT}/cgroup.controllers ]; then`,
        ...cgroup.v2.flatMap((w) => [`  # ${w.why}`, `  echo ${q(w.value)} > ${q(`${v2Dir}/${w.file}`)}`]),
        'else',
        ...cgroup.v1.flatMap((w) => [`  # ${w.why}`, `  echo ${q(w.value)} > ${q(`${CGROUP_ROOT}/${w.v1Name}/${cgroup.parent}/${name}/${w.file}`)}`]),
        'fi',
      ],
    });
  }

  list.push({
    title: 'Prepare the root filesystem',
    why: 'The container lives in its own root filesystem. A FIFO next to it will hold the command back until the container has switched into that root (step "Switch into the rootfs").',
    code: [
      `mkdir -p ${q(state)} && mkfifo ${q(fifo)}`,
      ...('dir' in model.rootfs
        ? [`test -d ${q(rootfs)} || echo ${q(`missing rootfs: ${rootfs}`)}`]
        : [`mkdir ${q(rootfs)} && tar -xf ${q((model.rootfs as { tar: string }).tar)} -C ${q(rootfs)}`]),
    ],
  });

  list.push({
    title: 'Enter new namespaces',
    why: [
      'A subshell joins the cgroup, then unshare gives it new namespaces and starts a new bash in them: the blocks up to "Switch into the rootfs" run in that shell.',
      `The namespaces (${Object.entries(model.namespaces).filter(([, on]) => on).map(([ns]) => ns).join(', ')}) are what the container can see: its own process numbers (it will be PID 1), mounts, hostname, IPC and network.`,
    ].join(' '),
    code: [
      `( for dir in "\${CGROUP_DIRS[@]}"; do echo "$BASHPID" > "$dir/cgroup.procs"; done; exec unshare ${[...model.unshareArgs, '--fork', '--kill-child'].map(q).join(' ')} -- bash )`,
    ],
  });

  const mountLines: string[] = [
    '# pivot_root needs the new root to be a mount point.',
    `mount --bind ${q(rootfs)} ${q(rootfs)}`,
    `mkdir -p ${r('/proc')} ${r('/dev')}`,
    '# A /proc of the new pid namespace: the container sees only its own processes.',
    `mount -t proc -o nosuid,nodev,noexec proc ${r('/proc')}`,
    '# A minimal /dev: a few device nodes copied from the host, private pts, shm and mqueue.',
    `mount -t tmpfs -o nosuid,noexec,mode=755,size=64k tmpfs ${r('/dev')}`,
    `cp -a ${model.devices.map((d) => q(`/dev/${d}`)).join(' ')} ${r('/dev/')}`,
    ...model.deviceLinks.map((l) => `ln -s ${q(l.target)} ${r(`/dev/${l.name}`)}`),
    `mkdir ${r('/dev/pts')} ${r('/dev/shm')}${model.namespaces.ipc ? ` ${r('/dev/mqueue')}` : ''}`,
    `mount -t devpts -o newinstance,ptmxmode=0666,mode=620,nosuid,noexec devpts ${r('/dev/pts')}`,
    `mount -t tmpfs -o nosuid,nodev,noexec,mode=1777 shm ${r('/dev/shm')}`,
    ...(model.namespaces.ipc ? [`mount -t mqueue -o nosuid,nodev,noexec mqueue ${r('/dev/mqueue')}`] : []),
  ];
  for (const m of model.mounts) {
    mountLines.push(`# ${m.origin}`);
    if (m.bind) {
      mountLines.push(`if [ -d ${q(m.bind.source)} ]; then mkdir -p ${r(m.target)}; else mkdir -p ${r(m.bind.targetParent)} && touch ${r(m.target)}; fi`);
      mountLines.push(`mount --bind ${q(m.bind.source)} ${r(m.target)}`);
      if (m.bind.readonly) mountLines.push(`mount -o remount,bind,ro ${r(m.target)}`);
    } else if (m.fs) {
      mountLines.push(`mkdir -p ${r(m.target)}`, `mount -t ${q(m.fs.type)} -o ${q(m.fs.options)} ${q(m.fs.type)} ${r(m.target)}`);
    }
  }
  list.push({
    title: 'Mount /proc, /dev and the volumes (inside the namespaces)',
    why: 'The mounts happen in the new mount namespace: the host does not see them, and they all go away with the container.',
    code: mountLines,
  });

  const settings: string[] = [];
  if (model.hostname !== null) settings.push('# The hostname changes in the new UTS namespace only.', `hostname ${q(model.hostname)}`);
  for (const s of model.sysctls) settings.push(`# sysctls.${s.key}: a namespaced kernel parameter`, `echo ${q(s.value)} > ${q(s.path)}`);
  if (model.namespaces.net) settings.push('# The new network namespace has only a loopback interface, and it starts down.', 'ip link set lo up');
  if (settings.length > 0) {
    list.push({
      title: 'Set the hostname, kernel parameters and loopback (inside the namespaces)',
      why: 'These settings belong to the new namespaces: the host keeps its own hostname and network.',
      code: settings,
    });
  }

  list.push({
    title: "Hide and freeze the kernel's sensitive files (inside the namespaces)",
    why: 'As runc and Docker do: masked paths are covered (files by /dev/null, directories by an empty read-only tmpfs) and read-only paths are bound onto themselves read-only, so the container cannot read kernel memory or change host-wide settings through /proc.',
    code: [
      `for path in ${model.maskedPaths.map(r).join(' ')}; do`,
      '  if [ -d "$path" ]; then mount -t tmpfs -o ro,size=0 tmpfs "$path"; elif [ -e "$path" ]; then mount --bind /dev/null "$path"; fi',
      'done',
      `for path in ${model.readonlyPaths.map(r).join(' ')}; do`,
      '  if [ -e "$path" ]; then mount --bind "$path" "$path" && mount -o remount,bind,ro "$path"; fi',
      'done',
    ],
  });

  if (model.security.rlimits.length > 0) {
    list.push({
      title: 'Set the rlimits (inside the namespaces)',
      why: "Resource limits of the process itself (setrlimit), inherited by the container's command.",
      code: model.security.rlimits.flatMap((l) => [
        `ulimit -S -H ${l.flag} ${q(l.hard)}`,
        ...(l.soft !== l.hard ? [`ulimit -S ${l.flag} ${q(l.soft)}`] : []),
      ]),
    });
  }

  list.push({
    title: 'Switch into the rootfs and start the command (inside the namespaces)',
    why: [
      "The command's process starts first, through the host's setpriv (which drops the capabilities, sets no_new_privs and the user) with only the spec's environment, and waits on the FIFO.",
      'A helper then pivots every process of this mount namespace into the rootfs, detaches the host\'s tree (with the rootfs\'s own umount: use the generated script for images you do not trust), and lets the command go: it becomes PID 1.',
      'This block ends when the container does.',
    ].join(' '),
    code: [
      `( exec 4>${q(fifo)}; cd ${q(rootfs)} && pivot_root . . && umount -l . && echo go >&4 ) &`,
      `exec env -i ${model.env.map((e) => q(`${e.name}=${e.value}`)).join(' ')} "$(command -v setpriv)" ${model.security.setprivArgs.map(q).join(' ')} -- \\`,
      `  "$BASH" -c 'exec 3<"$1" && read -r _ <&3 && exec 3<&- && cd -- "$2" && shift 2 && exec -- "$@"' container ${q(fifo)} ${q(model.workdir)} \\`,
      `  ${model.command.map(q).join(' ')}`,
    ],
  });

  list.push({
    title: 'Clean up (back in the first shell, after the container exited)',
    why: "The mounts and namespaces went away with the container's last process. What is left on the host is the cgroup (the parent too, if no other container uses it) and the runbook's own files.",
    code: [
      'echo "the container exited with status $?"',
      'for dir in "${CGROUP_DIRS[@]}"; do rmdir "$dir"; done',
      '# The parent, level by level, unless another container still uses it.',
      `if [ -f ${CGROUP_ROOT}/cgroup.controllers ]; then`,
      `  rmdir ${[...levels].reverse().map((l) => q(`${CGROUP_ROOT}/${l}`)).join(' ')} 2>/dev/null || true`,
      'else',
      ...cgroup.controllers.map((c) => `  rmdir ${[...levels].reverse().map((l) => q(`${CGROUP_ROOT}/${c.v1Name}/${l}`)).join(' ')} 2>/dev/null || true`),
      'fi',
      `rm -rf --one-file-system ${q(state)}`,
      `rmdir ${q(RUNBOOK_STATE_ROOT)} ${q(dirname(RUNBOOK_STATE_ROOT))} 2>/dev/null || true`,
    ],
  });
  return list;
}

export function renderRunbook(model: ContainerModel): string {
  const found = problems(model);
  if (found.length > 0) throw new TargetError('runbook', found);
  const body = steps(model).map((s, i) => [`## ${i + 1}. ${s.title}`, '', s.why, '', '```bash', ...s.code, '```', ''].join('\n'));
  return [
    `# Runbook: container ${model.name}`,
    '',
    'Generated by unshared from the container\'s spec. Paste the blocks, in order, into a root bash',
    'shell. "Enter new namespaces" starts a new shell inside them, where the blocks marked "inside',
    'the namespaces" run; the last block runs in the first shell again, once the container exited.',
    '',
    ...body,
  ].join('\n');
}
