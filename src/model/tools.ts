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
  /** Other tools that do the same job: any one of them is enough (curl or wget). */
  alternatives?: Tool[];
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
  mountpoint: { debian: 'util-linux', alpine: 'util-linux-misc', rhel: 'util-linux' },
  mktemp: { debian: 'coreutils', alpine: 'coreutils', rhel: 'coreutils' },
  mknod: { debian: 'coreutils', alpine: 'coreutils', rhel: 'coreutils' },
  sha256sum: { debian: 'coreutils', alpine: 'coreutils', rhel: 'coreutils' },
  find: { debian: 'findutils', alpine: 'findutils', rhel: 'findutils' },
  setfattr: { debian: 'attr', alpine: 'attr', rhel: 'attr' },
  jq: { debian: 'jq', alpine: 'jq', rhel: 'jq' },
  curl: { debian: 'curl', alpine: 'curl', rhel: 'curl' },
  wget: { debian: 'wget', alpine: 'wget', rhel: 'wget' },
};

function tool(name: string): Tool {
  const packages = TOOLS[name];
  if (!packages) throw new Error(`internal: no package known for tool ${name}`);
  return { name, ...packages };
}

/** The tools one container's script needs, given what its spec uses. */
export function requiredTools(uses: {
  tar: boolean; net: boolean; fileBinds: boolean; bridge?: boolean;
  /** Image layers (url, oci, layers): mounted as an overlay. */
  layers?: boolean;
  /** Tarballs unpacked into the layer cache: checked, unpacked, whiteouts converted, renamed in. */
  unpack?: boolean;
  download?: boolean;
  oci?: boolean;
}): Tool[] {
  const names = ['unshare', 'setpriv', 'pivot_root', 'mount', 'umount', 'mkdir', 'rmdir', 'cp', 'ln', 'rm', 'sleep'];
  // The day-2 verbs: start (setsid), exec (nsenter), logs (tail), and the lock on shared state.
  names.push('setsid', 'nsenter', 'tail', 'flock');
  if (uses.fileBinds) names.push('touch');
  if (uses.tar) names.push('tar');
  if (uses.net) names.push('ip');
  // network: a bridge's lease file is replaced with mv (nsenter and flock are listed above).
  if (uses.bridge) names.push('mv');
  // layers: a checked tarball is unpacked into a temporary directory (mktemp), its OCI
  // whiteouts become overlay whiteouts (find, mknod, setfattr), and it is renamed into the cache.
  // The layers are mounted as an overlay on the host, unmounted at cleanup (mountpoint).
  if (uses.layers) names.push('mountpoint');
  if (uses.unpack) names.push('tar', 'sha256sum', 'mktemp', 'find', 'mknod', 'setfattr', 'mv');
  // oci: index.json and the manifest are read with jq (see templates/script/rootfs-oci.hbs).
  if (uses.oci) names.push('jq');
  const tools = [...new Set(names)].map(tool);
  if (uses.download) tools.push({ ...tool('curl'), alternatives: [tool('wget')] });
  return tools;
}
