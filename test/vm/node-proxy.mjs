// The host's end of the guest's `node` (test/vm/node-shim.sh): run.sh starts it next to qemu.
// It connects to the virtio-serial port's unix socket and answers one request at a time:
//   request:  16 ASCII digits (the length), then a tar with meta/{argv,map,cwd,env[,stdin][,files.tar]}
//   response: 16 ASCII digits, then a tar with status, stdout, stderr[, files.tar]
// Files the guest sent are unpacked under SCRATCH/N/root, the arguments naming them point
// there, node runs natively, and the files it created or changed go back with the
// SCRATCH/N/root prefix removed (from them, and from stdout and stderr). Paths in the project
// point into SNAPSHOT, the project as run.sh packed it into the VM (so that node runs the same
// dist/ and templates/ as the guest has, whatever happens to the working tree meanwhile).
//
// Every forwarded node runs in a session (and process group) of its own, and is killed with
// its whole group when the guest's connection closes (the VM ended or was killed), when the
// proxy is stopped (TERM, INT, HUP) and when it exits: a forwarded call that never ends, such
// as a server, must not outlive the lane on the host. run.sh checks for any that did.
//
// Usage: node test/vm/node-proxy.mjs SOCKET PROJECT_DIR SCRATCH_DIR SNAPSHOT_OF_PROJECT_DIR
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const [socketPath, project, scratch, snapshot] = process.argv.slice(2);
if (!socketPath || !project || !scratch || !snapshot) {
  process.stderr.write('usage: node-proxy.mjs SOCKET PROJECT_DIR SCRATCH_DIR SNAPSHOT_OF_PROJECT_DIR\n');
  process.exit(2);
}
const CALL_TIMEOUT_MS = 300_000;
let count = 0;
/** The process groups of the forwarded calls still running (each child leads its own). */
const running = new Set();

/** SIGKILL to every forwarded call's process group: what it started goes with it. */
function killForwarded() {
  for (const pgid of running) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
}

/** Ends the proxy: the forwarded calls first, then this process, with STATUS. */
function shutdown(status, why) {
  if (running.size > 0) process.stderr.write(`node-proxy: ${why}: killing ${running.size} forwarded call(s): ${[...running].join(' ')}\n`);
  killForwarded();
  process.exit(status);
}

function tar(args, options = {}) {
  const result = spawnSync('tar', args, { ...options, maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`tar ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

function splitNul(buffer) {
  const parts = buffer.toString('utf8').split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

/** Every regular file under DIR, as paths relative to it. */
function walk(dir, prefix = '') {
  const out = [];
  for (const entry of readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = path.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...walk(dir, rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

const digest = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

function runNode(argv, cwd, env, stdin) {
  return new Promise((resolve) => {
    // detached: setsid(), so the child leads a process group that can be killed as a whole.
    const child = spawn(process.execPath, argv, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    if (child.pid !== undefined) running.add(child.pid);
    const group = child.pid;
    const stdout = [];
    const stderr = [];
    child.stdout.on('data', (d) => stdout.push(d));
    child.stderr.on('data', (d) => stderr.push(d));
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
    const timer = setTimeout(() => {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // already gone
      }
    }, CALL_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      running.delete(group);
      resolve({ status: 127, stdout: Buffer.alloc(0), stderr: Buffer.from(`node (vm proxy): ${error.message}\n`) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // The child is gone; what it left in its group (a background process) goes too.
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // the group is empty
      }
      running.delete(group);
      const status = code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
      resolve({ status, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) });
    });
  });
}

async function handle(request) {
  const dir = path.join(scratch, String(++count));
  const root = path.join(dir, 'root');
  mkdirSync(root, { recursive: true });
  try {
    tar(['-x', '-C', dir], { input: request });
    const meta = path.join(dir, 'meta');
    const argv = splitNul(readFileSync(path.join(meta, 'argv')));
    const guestCwd = readFileSync(path.join(meta, 'cwd'), 'utf8');
    const env = {};
    for (const entry of splitNul(readFileSync(path.join(meta, 'env')))) {
      const eq = entry.indexOf('=');
      if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    env.PATH = process.env.PATH ?? '/usr/bin:/bin';
    env.HOME = process.env.HOME ?? '/root';
    const stdinFile = path.join(meta, 'stdin');
    const stdin = existsSync(stdinFile) ? readFileSync(stdinFile) : '';
    if (existsSync(path.join(meta, 'files.tar'))) tar(['-x', '-p', '-C', root, '-f', path.join(meta, 'files.tar')]);

    const inProject = (p) => p === project || p.startsWith(`${project}/`);
    const toSnapshot = (p) => snapshot + p.slice(project.length);
    const cwd = inProject(guestCwd) ? toSnapshot(guestCwd) : path.join(root, guestCwd);
    mkdirSync(cwd, { recursive: true });
    // The arguments the guest sent a file (or an output's directory) for point at the copies.
    const args = argv.map((arg) => (inProject(arg) ? toSnapshot(arg) : arg));
    const map = splitNul(readFileSync(path.join(meta, 'map')));
    for (let i = 0; i + 1 < map.length; i += 2) args[Number(map[i])] = path.join(root, map[i + 1]);
    const before = new Map(walk(root).map((f) => [f, digest(path.join(root, f))]));

    const result = await runNode(args, cwd, env, stdin);

    const unprefix = (buffer) =>
      Buffer.from(buffer.toString('latin1').replaceAll(root, '').replaceAll(snapshot, project), 'latin1');
    const res = path.join(dir, 'res');
    mkdirSync(res);
    writeFileSync(path.join(res, 'status'), String(result.status));
    writeFileSync(path.join(res, 'stdout'), unprefix(result.stdout));
    writeFileSync(path.join(res, 'stderr'), unprefix(result.stderr));
    const changed = walk(root).filter((f) => before.get(f) !== digest(path.join(root, f)));
    for (const f of changed) {
      const file = path.join(root, f);
      const content = readFileSync(file);
      if (content.includes(root) || content.includes(snapshot)) writeFileSync(file, unprefix(content));
    }
    if (changed.length > 0) tar(['-c', '-p', '-C', root, '-f', path.join(res, 'files.tar'), '--', ...changed]);
    return tar(['-c', '-C', res, '.']);
  } catch (error) {
    const res = path.join(dir, 'error');
    mkdirSync(res, { recursive: true });
    writeFileSync(path.join(res, 'status'), '1');
    writeFileSync(path.join(res, 'stdout'), '');
    writeFileSync(path.join(res, 'stderr'), `node (vm proxy): ${error.message}\n`);
    return tar(['-c', '-C', res, '.']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function connect(attempt = 0) {
  const socket = net.createConnection(socketPath);
  let buffer = Buffer.alloc(0);
  let busy = Promise.resolve();
  socket.on('connect', () => {
    process.stderr.write(`node-proxy: serving ${socketPath}\n`);
    // Only a connection that was made can close: a failed attempt ('error', then 'close') is
    // retried above while qemu has not made the socket yet.
    socket.on('close', () => shutdown(0, 'the guest closed the connection'));
  });
  socket.on('error', (error) => {
    if (attempt < 100 && (error.code === 'ENOENT' || error.code === 'ECONNREFUSED')) {
      setTimeout(() => connect(attempt + 1), 100);
    } else {
      process.stderr.write(`node-proxy: ${error.message}\n`);
      process.exit(1);
    }
  });
  socket.on('data', (data) => {
    buffer = Buffer.concat([buffer, data]);
    while (buffer.length >= 16) {
      const length = Number(buffer.subarray(0, 16).toString('latin1'));
      if (!Number.isSafeInteger(length)) {
        process.stderr.write('node-proxy: a bad request header; dropping the buffer\n');
        buffer = Buffer.alloc(0);
        return;
      }
      if (buffer.length < 16 + length) return;
      const request = buffer.subarray(16, 16 + length);
      buffer = buffer.subarray(16 + length);
      busy = busy.then(async () => {
        const response = await handle(request);
        socket.write(String(response.length).padStart(16, '0'));
        socket.write(response);
      });
    }
  });
}

try {
  statSync(project);
  statSync(snapshot);
  mkdirSync(scratch, { recursive: true });
} catch (error) {
  process.stderr.write(`node-proxy: ${error.message}\n`);
  process.exit(2);
}
for (const [signal, number] of [['SIGTERM', 15], ['SIGINT', 2], ['SIGHUP', 1]]) {
  process.on(signal, () => shutdown(128 + number, `${signal}`));
}
// Any other way out (an uncaught error, process.exit elsewhere): process.kill is synchronous.
process.on('exit', killForwarded);
connect();
