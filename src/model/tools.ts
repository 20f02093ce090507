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
  mv: { debian: 'coreutils', alpine: 'coreutils', rhel: 'coreutils' },
};

function tool(name: string): Tool {
  const packages = TOOLS[name];
  if (!packages) throw new Error(`internal: no package known for tool ${name}`);
  return { name, ...packages };
}

/** The tools one container's script needs, given what its spec uses. */
export function requiredTools(uses: { tar: boolean; net: boolean; fileBinds: boolean; bridge?: boolean }): Tool[] {
  // (The script sleeps with bash's read -t, not sleep(1), and needs no lock on shared state.)
  const names = ['unshare', 'setpriv', 'pivot_root', 'mount', 'umount', 'mkdir', 'rmdir', 'cp', 'ln', 'rm'];
  // The day-2 verbs: start (setsid), exec (nsenter), logs (tail).
  names.push('setsid', 'nsenter', 'tail');
  if (uses.fileBinds) names.push('touch');
  if (uses.tar) names.push('tar');
  if (uses.net) names.push('ip');
  // network: a bridge's lease file is replaced with mv, under a lock (flock).
  if (uses.bridge) names.push('mv', 'flock');
  return names.map(tool);
}
