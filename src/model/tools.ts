/**
 * The host tools a generated script runs, and where each comes from, so that the script's
 * preflight can name the package to install instead of failing halfway with "not found".
 */

export interface Tool {
  name: string;
  /** Package names on the three families of distributions users run servers on. */
  debian: string;
  alpine: string;
  rhel: string;
}

const TOOLS: Record<string, Omit<Tool, 'name'>> = {
  unshare: { debian: 'util-linux', alpine: 'util-linux-misc', rhel: 'util-linux' },
  setpriv: { debian: 'util-linux', alpine: 'setpriv', rhel: 'util-linux' },
  pivot_root: { debian: 'util-linux', alpine: 'util-linux-misc', rhel: 'util-linux' },
  mount: { debian: 'mount', alpine: 'util-linux', rhel: 'util-linux' },
  umount: { debian: 'mount', alpine: 'util-linux', rhel: 'util-linux' },
  mkdir: { debian: 'coreutils', alpine: 'coreutils', rhel: 'coreutils' },
  rmdir: { debian: 'coreutils', alpine: 'coreutils', rhel: 'coreutils' },
  cp: { debian: 'coreutils', alpine: 'coreutils', rhel: 'coreutils' },
  ln: { debian: 'coreutils', alpine: 'coreutils', rhel: 'coreutils' },
  rm: { debian: 'coreutils', alpine: 'coreutils', rhel: 'coreutils' },
  touch: { debian: 'coreutils', alpine: 'coreutils', rhel: 'coreutils' },
  sleep: { debian: 'coreutils', alpine: 'coreutils', rhel: 'coreutils' },
  nsenter: { debian: 'util-linux', alpine: 'util-linux-misc', rhel: 'util-linux' },
  setsid: { debian: 'util-linux', alpine: 'util-linux-misc', rhel: 'util-linux' },
  flock: { debian: 'util-linux', alpine: 'flock', rhel: 'util-linux' },
  tail: { debian: 'coreutils', alpine: 'coreutils', rhel: 'coreutils' },
  tar: { debian: 'tar', alpine: 'tar', rhel: 'tar' },
  ip: { debian: 'iproute2', alpine: 'iproute2', rhel: 'iproute' },
  chgrp: { debian: 'coreutils', alpine: 'coreutils', rhel: 'coreutils' },
  chmod: { debian: 'coreutils', alpine: 'coreutils', rhel: 'coreutils' },
  mkfifo: { debian: 'coreutils', alpine: 'coreutils', rhel: 'coreutils' },
  hostname: { debian: 'hostname', alpine: 'busybox', rhel: 'hostname' },
  mv: { debian: 'coreutils', alpine: 'coreutils', rhel: 'coreutils' },
};

function tool(name: string): Tool {
  const packages = TOOLS[name];
  if (!packages) throw new Error(`internal: no package known for tool ${name}`);
  return { name, ...packages };
}

/** The tools one container's script needs, given what its spec uses. */
export function requiredTools(uses: { tar: boolean; net: boolean; fileBinds: boolean; bridge?: boolean; userns?: boolean; hostname?: boolean }): Tool[] {
  const names = ['unshare', 'setpriv', 'pivot_root', 'mount', 'umount', 'mkdir', 'rmdir', 'cp', 'ln', 'rm', 'sleep'];
  // The day-2 verbs: start (setsid), exec (nsenter), logs (tail), and the lock on shared state.
  names.push('setsid', 'nsenter', 'tail', 'flock');
  if (uses.fileBinds || uses.userns) names.push('touch');
  if (uses.tar) names.push('tar');
  if (uses.net) names.push('ip');
  // network: a bridge's lease file is replaced with mv (nsenter and flock are listed above).
  if (uses.bridge) names.push('mv');
  // userns: the parent and the child meet at a FIFO; root of a user namespace sets the hostname
  // with sethostname(2), since /proc/sys/kernel/hostname stays writable only by the host's root.
  // (chgrp and chmod open the state directory to the container's root.)
  if (uses.userns) names.push('mkfifo', 'chgrp', 'chmod');
  if (uses.hostname) names.push('hostname');
  return names.map(tool);
}
