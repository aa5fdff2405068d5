#!/usr/bin/env node
/**
 * The lab's Kubernetes pods, made through CRI itself as kubelet makes them (kubelet is not
 * packaged here, and the cri adapter must be held to what kubelet leaves, not to what a tool of
 * ours would): a pod sandbox with kubelet's labels and annotations, then its containers, each with
 * kubelet's labels and annotations. Host network and an empty hostname: these machines have no CNI
 * and runc refuses a hostname without a UTS namespace (shared/reference/kubernetes-cri.md).
 *
 *   node test/lab/cri-pods.js            make what is missing or wrong, keep the rest (idempotent)
 *   node test/lab/cri-pods.js --check    print the lab's containers as CRI reports them; fail if one is wrong
 *   node test/lab/cri-pods.js --remove   remove every pod of the lab
 *
 * Required as a module (test/integration/cri-own.test.ts), it makes pods of a caller's own on a runtime
 * of its own: connect(endpoint), makePod(rt, pod), removeSandbox(rt, id), statusOf(rt, id).
 *
 * Plain CommonJS, so that the lab needs no TypeScript build, only `npm ci` (@grpc/grpc-js,
 * @grpc/proto-loader). It speaks with the runtime through the adapter's proto (adapters/cri/proto).
 */
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const ENDPOINT = process.env.LAB_CRI_ENDPOINT || 'unix:///run/containerd/containerd.sock';
const PROTO = path.join(__dirname, '..', '..', 'adapters', 'cri', 'proto', 'api.proto');
const LOG_DIR = path.join(process.env.LAB_LOG_DIR || '/var/log/scope-lab', 'pods');
// Named by cri.sh, which imports them; the same defaults for a run by hand.
const BUSYBOX = process.env.CRI_IMAGE || 'scope-lab.local/busybox:1';
const NOSHELL = process.env.CRI_NOSHELL_IMAGE || 'scope-lab.local/noshell:1';

/** What marks the lab's pods and containers: removing "anything of the lab's" never touches others'. */
const LAB_KEY = 'scope-lab';
/**
 * On each container, its name as the cri adapter gives it (NAMESPACE/POD/CONTAINER), so that the
 * matrix's idOf can ask ctr for the container's ID by that name (ctr filters on labels, and kubelet's
 * labels hold the three parts apart). kubelet puts no such label; the adapter never reads it.
 */
const NAME_KEY = 'scope-lab.name';
/** On each sandbox, the hash of what the lab wants of it: a pod made from an older wish is made again. */
const HASH_KEY = 'scope-lab.hash';

const SLEEP = ['/bin/sleep', '1000000'];
const MiB = 1024 * 1024;

/**
 * The pods. Each container: `exits` runs to its end (and must exit 0); the others run `SLEEP`.
 * `memory` is a limit in bytes, `user` runs it as that uid and gid. A pod may also have `logRoot`,
 * where its logs go instead of LOG_DIR, and `unmarked`: only kubelet's labels and annotations, none
 * of the lab's marks (a pod as any cluster has it; the lab's ensure and --remove never see it).
 */
const PODS = [
  { namespace: 'scope-lab', name: 'lab-cri', containers: [
    { name: 'web', image: BUSYBOX, command: SLEEP },
    { name: 'sidecar', image: BUSYBOX, command: SLEEP },
  ] },
  { namespace: 'scope-lab', name: 'lab-cri-noshell', containers: [{ name: 'app', image: NOSHELL, command: SLEEP }] },
  { namespace: 'scope-lab', name: 'lab-cri-stopped', containers: [
    { name: 'job', image: BUSYBOX, command: ['/bin/true'], exits: true },
  ] },
  { namespace: 'scope-lab', name: 'lab-cri-limited', containers: [
    { name: 'web', image: BUSYBOX, command: SLEEP, readonlyRootfs: true, memory: 32 * MiB },
  ] },
  { namespace: 'scope-lab', name: 'lab-cri-app', containers: [
    { name: 'app', image: BUSYBOX, command: SLEEP, user: 1000 },
  ] },
  // Namespace default: a bare pod name resolves there.
  { namespace: 'default', name: 'lab-cri-solo', containers: [{ name: 'solo', image: BUSYBOX, command: SLEEP }] },
];

/** Deadlines: making a sandbox starts its pause container; every other call answers at once. */
const RUN_SANDBOX_MS = 60_000;
const CALL_MS = 30_000;
/** How long containerd's CRI plugin may take to answer after containerd starts, and a job to exit. */
const READY_MS = 30_000;
const EXIT_MS = 30_000;

const hash = (value) => crypto.createHash('sha256').update(JSON.stringify(value)).digest('hex');

/** A stable pod UID, shaped as kubelet's (a UUID): the same pod gets the same one on every machine. */
function podUid(pod) {
  const h = hash(['scope-lab pod', pod.namespace, pod.name]);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const refOf = (pod, c) => `${pod.namespace}/${pod.name}${c ? `/${c.name}` : ''}`;

// Host network (no CNI here); one PID and IPC namespace for the pod, as with shareProcessNamespace.
const NAMESPACES = { network: 'NODE', pid: 'POD', ipc: 'POD' };

/** What kubelet sends for the pod: its labels are the pod's own plus kubelet's three. */
function sandboxConfig(pod) {
  const uid = podUid(pod);
  const mark = pod.unmarked ? {} : { [LAB_KEY]: '1' };
  const qos = pod.containers.some((c) => c.memory) ? 'burstable' : 'besteffort';
  const config = {
    metadata: { name: pod.name, uid, namespace: pod.namespace, attempt: 0 },
    hostname: '',
    log_directory: path.join(pod.logRoot ?? LOG_DIR, `${pod.namespace}_${pod.name}_${uid}`),
    labels: {
      'io.kubernetes.pod.name': pod.name, 'io.kubernetes.pod.namespace': pod.namespace,
      'io.kubernetes.pod.uid': uid, app: pod.name, ...mark,
    },
    annotations: { 'kubernetes.io/config.source': 'api' },
    // kubelet's cgroup layout with the cgroupfs driver: /kubepods/QOS/podUID.
    linux: { cgroup_parent: `/kubepods/${qos}/pod${uid}`, security_context: { namespace_options: NAMESPACES } },
  };
  if (!pod.unmarked) config.annotations[HASH_KEY] = hash(config).slice(0, 16);
  // When kubelet first saw the pod: left out of the hash, or every run would make the pods again.
  config.annotations['kubernetes.io/config.seen'] = new Date().toISOString();
  return config;
}

/**
 * What kubelet sends for a container: its four labels, its annotations, the log path. Its hash
 * annotation is, as kubelet's, that of the container's spec: here of all the rest of the config.
 */
function containerConfig(pod, c, sandbox) {
  const uid = sandbox.metadata.uid;
  // A BestEffort container's OOM score is 1000; one with a memory limit (its request too) scores as
  // kubelet's Burstable class does. containerd keeps the score at or above its own here.
  const oom = c.memory ? Math.max(2, 1000 - Math.floor((1000 * c.memory) / os.totalmem())) : 1000;
  const user = c.user === undefined ? {} : { run_as_user: { value: c.user }, run_as_group: { value: c.user } };
  const marks = pod.unmarked ? {} : { [LAB_KEY]: '1', [NAME_KEY]: refOf(pod, c) };
  const config = {
    metadata: { name: c.name, attempt: 0 },
    image: { image: c.image },
    command: c.command,
    labels: {
      'io.kubernetes.container.name': c.name, 'io.kubernetes.pod.name': pod.name,
      'io.kubernetes.pod.namespace': pod.namespace, 'io.kubernetes.pod.uid': uid,
      ...marks,
    },
    annotations: {
      'io.kubernetes.container.restartCount': '0',
      'io.kubernetes.container.terminationMessagePath': '/dev/termination-log',
      'io.kubernetes.container.terminationMessagePolicy': 'File',
      'io.kubernetes.pod.terminationGracePeriod': '30',
    },
    log_path: `${c.name}/0.log`,
    linux: {
      resources: { cpu_period: 100000, cpu_shares: 2, memory_limit_in_bytes: c.memory || 0, oom_score_adj: oom },
      security_context: { namespace_options: NAMESPACES, readonly_rootfs: !!c.readonlyRootfs, ...user },
    },
  };
  config.annotations['io.kubernetes.container.hash'] = hash(config).slice(0, 8);
  return config;
}

/** The RuntimeService, each call a promise with a deadline, failing with the call's name and status. */
function connect(endpoint = ENDPOINT) {
  const defs = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, enums: String, defaults: true });
  const Service = grpc.loadPackageDefinition(defs).runtime.v1.RuntimeService;
  const client = new Service(endpoint, grpc.credentials.createInsecure());
  const call = (method, req, ms = CALL_MS) => new Promise((resolve, reject) => {
    client[method](req, { deadline: Date.now() + ms }, (err, res) => {
      if (!err) resolve(res);
      else reject(new Error(`${method} on ${endpoint}: ${err.details || err.message} (gRPC ${grpc.status[err.code]})`));
    });
  });
  return { call, close: () => client.close() };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Version, until the CRI plugin answers: just after containerd starts it may not yet. */
async function waitReady(rt) {
  const until = Date.now() + READY_MS;
  for (;;) {
    try {
      return await rt.call('Version', { version: 'v1' }, 5000);
    } catch (err) {
      if (Date.now() > until) throw new Error(`no answer within ${READY_MS / 1000} s: ${err.message}`);
      await sleep(200);
    }
  }
}

/** The host PID from a verbose ContainerStatus, as containerd gives it (info.info's "pid"); 0 when none. */
async function statusOf(rt, id) {
  const r = await rt.call('ContainerStatus', { container_id: id, verbose: true });
  let pid = 0;
  try {
    pid = JSON.parse(r.info.info || '{}').pid || 0;
  } catch {
    // no JSON: no PID
  }
  return { ...r.status, pid };
}

/** A running container's process is the one it was made with, not only what the runtime says. */
function alive(pid, command) {
  try {
    return pid > 0 && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `${command.join('\0')}\0`;
  } catch {
    return false;
  }
}

async function labState(rt) {
  const selector = { label_selector: { [LAB_KEY]: '1' } };
  const [{ items }, { containers }] = await Promise.all([
    rt.call('ListPodSandbox', { filter: selector }), rt.call('ListContainers', { filter: selector })]);
  return { sandboxes: items, containers };
}

/** Why the pod's sandbox `sb` and its containers are not what the lab wants, or undefined when they are. */
async function unwanted(rt, pod, sb, containers) {
  const want = sandboxConfig(pod);
  if (sb.state !== 'SANDBOX_READY') return `its sandbox is ${sb.state}`;
  if (sb.annotations[HASH_KEY] !== want.annotations[HASH_KEY]) return 'its sandbox was made from another spec';
  const mine = containers.filter((c) => c.pod_sandbox_id === sb.id);
  if (mine.length !== pod.containers.length) return `it has ${mine.length} containers, not ${pod.containers.length}`;
  for (const c of pod.containers) {
    const had = mine.find((x) => x.metadata.name === c.name);
    if (!had) return `it has no container ${c.name}`;
    const HASH = 'io.kubernetes.container.hash';
    if (had.annotations[HASH] !== containerConfig(pod, c, sb).annotations[HASH]) {
      return `${c.name} was made from another spec`;
    }
    const st = await statusOf(rt, had.id);
    if (c.exits) {
      if (st.state !== 'CONTAINER_EXITED' || st.exit_code !== 0) {
        return `${c.name} is ${st.state}, exit ${st.exit_code}`;
      }
    } else if (st.state !== 'CONTAINER_RUNNING' || !alive(st.pid, c.command)) {
      return `${c.name} is ${st.state} with PID ${st.pid}, which does not run ${c.command.join(' ')}`;
    }
  }
  return undefined;
}

/** Stops and removes a sandbox; removing it removes its containers. */
async function removeSandbox(rt, id) {
  await rt.call('StopPodSandbox', { pod_sandbox_id: id });
  await rt.call('RemovePodSandbox', { pod_sandbox_id: id });
}

async function waitExited(rt, id, name) {
  const until = Date.now() + EXIT_MS;
  for (;;) {
    const st = await statusOf(rt, id);
    if (st.state === 'CONTAINER_EXITED') {
      if (st.exit_code !== 0) throw new Error(`${name} exited ${st.exit_code}: ${st.reason} ${st.message}`.trim());
      return;
    }
    if (Date.now() > until) throw new Error(`${name} is still ${st.state} after ${EXIT_MS / 1000} s`);
    await sleep(100);
  }
}

/** Makes the pod as kubelet does: RunPodSandbox, then CreateContainer and StartContainer for each container. */
async function makePod(rt, pod) {
  const config = sandboxConfig(pod);
  fs.mkdirSync(config.log_directory, { recursive: true });
  const { pod_sandbox_id: sandbox } = await rt.call('RunPodSandbox', { config, runtime_handler: '' }, RUN_SANDBOX_MS);
  const made = [];
  for (const c of pod.containers) {
    const { container_id: id } = await rt.call('CreateContainer', {
      pod_sandbox_id: sandbox, config: containerConfig(pod, c, config), sandbox_config: config });
    await rt.call('StartContainer', { container_id: id });
    if (c.exits) await waitExited(rt, id, refOf(pod, c));
    const st = await statusOf(rt, id);
    if (!c.exits && st.state !== 'CONTAINER_RUNNING') throw new Error(`${refOf(pod, c)} is ${st.state} once started`);
    made.push(`${c.name} ${id.slice(0, 12)} ${c.exits ? `exited ${st.exit_code}` : `PID ${st.pid}`}`);
  }
  return `sandbox ${sandbox.slice(0, 12)}: ${made.join(', ')}`;
}

const say = (line) => process.stderr.write(`[lab] cri: ${line}\n`);

async function ensure(rt) {
  const { sandboxes, containers } = await labState(rt);
  const kept = new Set();
  for (const pod of PODS) {
    const found = sandboxes.filter((s) => s.metadata.namespace === pod.namespace && s.metadata.name === pod.name);
    let why = found.length === 0 ? 'it is missing' : found.length > 1 ? `it has ${found.length} sandboxes` : undefined;
    why ??= await unwanted(rt, pod, found[0], containers);
    if (!why) {
      kept.add(found[0].id);
      say(`kept ${refOf(pod)} (sandbox ${found[0].id.slice(0, 12)})`);
      continue;
    }
    for (const s of found) await removeSandbox(rt, s.id);
    const made = await makePod(rt, pod).catch((err) => {
      throw new Error(`making pod ${refOf(pod)} (${why}): ${err.message}`);
    });
    say(`made ${refOf(pod)} (${why}): ${made}`);
  }
  // The lab's sandboxes that no pod above wants: pods the lab made once and no longer makes.
  const wanted = (s) => PODS.some((p) => p.namespace === s.metadata.namespace && p.name === s.metadata.name);
  for (const s of sandboxes.filter((x) => !wanted(x))) {
    await removeSandbox(rt, s.id);
    const ref = `${s.metadata.namespace}/${s.metadata.name}`;
    say(`removed ${ref} (sandbox ${s.id.slice(0, 12)}): no longer one of the lab's pods`);
  }
  // Containers of the lab whose sandbox is gone (a sandbox removed by hand leaves none, but be sure).
  const live = new Set((await labState(rt)).sandboxes.map((s) => s.id));
  for (const c of containers.filter((x) => !live.has(x.pod_sandbox_id))) {
    await rt.call('RemoveContainer', { container_id: c.id }).catch(() => undefined);
  }
}

/** The lab's containers as CRI reports them; every wanted one must be there in its wanted state. */
async function check(rt) {
  const { containers } = await labState(rt);
  const problems = [];
  const rows = [];
  for (const pod of PODS) {
    for (const c of pod.containers) {
      const found = containers.filter((x) => x.labels[NAME_KEY] === refOf(pod, c));
      if (found.length !== 1) {
        problems.push(`${refOf(pod, c)}: ${found.length} containers`);
        continue;
      }
      const st = await statusOf(rt, found[0].id);
      rows.push([refOf(pod, c), found[0].id, st.state, String(st.pid), found[0].image.image]);
      if (c.exits ? st.state !== 'CONTAINER_EXITED' || st.pid !== 0 : !alive(st.pid, c.command)) {
        problems.push(`${refOf(pod, c)} is ${st.state} with PID ${st.pid}`);
      }
    }
  }
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((x, i) => (i < 4 ? x.padEnd(widths[i]) : x)).join('  '));
  if (problems.length) throw new Error(`not as the lab wants: ${problems.join('; ')}`);
}

async function removeAll(rt) {
  for (const s of (await labState(rt)).sandboxes) {
    await removeSandbox(rt, s.id);
    say(`removed pod ${s.metadata.namespace}/${s.metadata.name} (sandbox ${s.id.slice(0, 12)})`);
  }
}

async function main() {
  const mode = process.argv[2] ?? '';
  const work = { '': ensure, '--check': check, '--remove': removeAll }[mode];
  if (!work) throw new Error(`unknown argument ${mode}: give nothing, --check or --remove`);
  const rt = connect();
  try {
    await waitReady(rt);
    await work(rt);
  } finally {
    rt.close();
  }
}

module.exports = { connect, waitReady, makePod, removeSandbox, statusOf, sandboxConfig, containerConfig };

if (require.main === module) {
  main().catch((err) => {
    say(`error: ${err.message}`);
    process.exitCode = 1;
  });
}
