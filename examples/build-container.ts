/**
 * The classic "container in 20 lines of bash" (build-container.sh), as a spec: a busybox shell
 * with its own pid, mount, uts and ipc namespaces, 128 MiB of memory, a quarter of one CPU and
 * at most 32 processes, sysfs and a tmpfs on /tmp. Like `docker run --rm`, its writable layer
 * (what the shell changed in the rootfs) is removed when it exits, so it can run again at once.
 *
 *     unshared build examples/build-container.ts -o build-container.sh
 *     sudo ./build-container.sh
 */
import { defineContainer } from 'unshared';

export default defineContainer({
  name: 'scratch-container',
  // `make rootfs` builds this directory from Debian's busybox-static.
  rootfs: { dir: '/var/lib/unshared/busybox' },
  autoRemove: true,
  hostname: 'scratch-container',
  command: ['/bin/sh'],
  env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
  workdir: '/',
  namespaces: ['pid', 'mount', 'uts', 'ipc'],
  limits: { memory: '128m', cpus: 0.25, pids: 32 },
  mounts: [
    { type: 'sysfs', target: '/sys' },
    { type: 'tmpfs', target: '/tmp' },
  ],
  cgroupParent: 'unshared',
});
