import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as apps from 'kubernetes-models/apps/v1';
import * as rbac from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as core from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { PACKAGE_ROOT } from '../../base/paths';

/**
 * deploy/kubernetes/, checked offline: every object against the Kubernetes API's schema (1.33, from
 * kubernetes-models), and the agent against what it must be: in the host's PID namespace, with exactly
 * the capabilities the engine needs, the host's root read-only, resource requests, on every node, and
 * with no access to the API. The schema does not refuse unknown fields (the API server does): a
 * misspelt field shows up here as a missing one.
 */
const DIR = join(PACKAGE_ROOT, 'deploy', 'kubernetes');
const CAPABILITIES = ['DAC_OVERRIDE', 'KILL', 'SETGID', 'SETUID', 'SYS_ADMIN', 'SYS_CHROOT', 'SYS_PTRACE'];
const SCHEMAS: Record<string, Record<string, unknown>> = {
  v1: core, 'apps/v1': apps, 'rbac.authorization.k8s.io/v1': rbac,
};

type Doc = Record<string, any>;

function load(): Doc[] {
  return readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort().flatMap((f) => {
    return parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d, i) => {
      const trouble = [...d.errors, ...d.warnings];
      if (trouble.length) throw new Error(`${f} document ${i + 1}: ${trouble.map((e) => e.message).join('; ')}`);
      return d.toJS() as Doc;
    });
  });
}

/** Throws what the schema says is wrong with `doc`. */
function validate(doc: Doc): void {
  const Model = SCHEMAS[doc.apiVersion]?.[doc.kind] as (new (d: Doc) => { validate(): void }) | undefined;
  if (typeof Model !== 'function') throw new Error(`no schema for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc).validate();
}

/** The plugin's default for an environment variable: `NAME=${NAME:-default}` in kubectl-scope. */
function pluginDefault(name: string): string {
  const m = new RegExp(`\\$\\{${name}:-([^}]+)\\}`).exec(readFileSync(join(DIR, 'kubectl-scope'), 'utf8'));
  if (!m) throw new Error(`kubectl-scope has no default for ${name}`);
  return m[1];
}

function mebibytes(q: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(q);
  if (!m) throw new Error(`quantity ${q}: only Mi and Gi are read here`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

/** What is wrong with the manifests against the demands, one line each; none when all is well. */
function problems(docs: Doc[]): string[] {
  const out: string[] = [];
  const of = (kind: string) => docs.filter((d) => d.kind === kind);
  const [ns, sa, ds] = [of('Namespace'), of('ServiceAccount'), of('DaemonSet')];
  if (ns.length !== 1 || sa.length !== 1 || ds.length !== 1) return ['want one Namespace, ServiceAccount, DaemonSet'];
  const name = ns[0].metadata.name;
  if (name !== pluginDefault('SCOPE_AGENT_NAMESPACE')) out.push('namespace is not the plugin\'s default');
  if (docs[0] !== ns[0]) out.push('the Namespace is not applied first');
  for (const d of docs) if (d !== ns[0] && d.metadata.namespace !== name) out.push(`${d.kind} outside ${name}`);
  const rights = docs.filter((d) => /^(Cluster)?Role(Binding)?$/.test(d.kind));
  if (rights.length) out.push(`API rights granted: ${rights.map((d) => d.kind).join(', ')}`);
  if (sa[0].automountServiceAccountToken !== false) out.push('the ServiceAccount mounts a token');

  const pod = ds[0].spec.template.spec;
  const labels = Object.entries(ds[0].spec.template.metadata.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  if (!labels.includes(pluginDefault('SCOPE_AGENT_SELECTOR'))) out.push('pods lack the plugin\'s selector label');
  for (const [k, v] of Object.entries(ds[0].spec.selector.matchLabels ?? {})) {
    if (ds[0].spec.template.metadata.labels?.[k] !== v) out.push(`selector ${k} does not match the template`);
  }
  if (pod.serviceAccountName !== sa[0].metadata.name) out.push('pods do not use the ServiceAccount');
  if (pod.automountServiceAccountToken !== false) out.push('pods mount a token');
  if (pod.hostPID !== true) out.push('hostPID is not true');
  if (pod.hostNetwork || pod.hostIPC) out.push('host network or IPC namespace');
  if (!(pod.tolerations ?? []).some((t: Doc) => t.operator === 'Exists' && !t.key && !t.effect)) {
    out.push('no toleration of every taint');
  }
  if (pod.containers.length !== 1) return [...out, 'want one container'];
  const c = pod.containers[0];
  const sc = c.securityContext ?? {};
  if (c.name !== pluginDefault('SCOPE_AGENT_CONTAINER')) out.push('container is not the plugin\'s default');
  const version = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;
  if (c.image !== `scope-engine:${version}`) out.push(`image is not scope-engine:${version}`);
  if (JSON.stringify(c.args) !== '["agent"]' || c.command) out.push('does not run `scope-engine agent`');
  if (sc.privileged !== false) out.push('privileged is not false');
  if (sc.runAsUser !== 0) out.push('runAsUser is not 0');
  // The API refuses allowPrivilegeEscalation: false together with SYS_ADMIN.
  if (sc.allowPrivilegeEscalation === false) out.push('allowPrivilegeEscalation: false with SYS_ADMIN');
  if (JSON.stringify(sc.capabilities?.drop) !== '["ALL"]') out.push('capabilities do not drop ALL');
  if (JSON.stringify([...sc.capabilities?.add ?? []].sort()) !== JSON.stringify(CAPABILITIES)) {
    out.push(`capabilities added are not exactly ${CAPABILITIES.join(', ')}`);
  }
  const seccomp = sc.seccompProfile ?? pod.securityContext?.seccompProfile;
  if (seccomp?.type !== 'RuntimeDefault') out.push('seccomp is not RuntimeDefault');
  if (sc.readOnlyRootFilesystem !== true) out.push('root filesystem is writable');
  const requests = c.resources?.requests ?? {};
  if (!requests.cpu || !requests.memory) out.push('no cpu and memory requests');
  const limit = c.resources?.limits?.memory;
  if (!limit || mebibytes(limit) < mebibytes(requests.memory ?? '0Mi')) out.push('no memory limit above the request');

  const hostPaths = new Map<string, string>(pod.volumes.filter((v: Doc) => v.hostPath)
    .map((v: Doc) => [v.name, v.hostPath.path]));
  const mounts = (c.volumeMounts ?? []).filter((m: Doc) => hostPaths.has(m.name));
  const root = mounts.find((m: Doc) => hostPaths.get(m.name) === '/');
  if (!root || root.readOnly !== true) out.push('the host\'s root is not mounted read-only');
  const hostRoot = (c.env ?? []).find((e: Doc) => e.name === 'SCOPE_ENGINE_HOST_ROOT')?.value;
  if (!root || hostRoot !== root.mountPath) out.push('SCOPE_ENGINE_HOST_ROOT is not where the host\'s root is');
  for (const m of mounts) {
    const writable = m.readOnly !== true;
    if (writable && !(hostPaths.get(m.name) === '/sys/fs/cgroup' && m.mountPath === '/sys/fs/cgroup')) {
      out.push(`host ${hostPaths.get(m.name)} is writable`);
    }
  }
  return out;
}

describe('deploy/kubernetes (offline, against the Kubernetes 1.33 API schema)', () => {
  const docs = load();

  it('every document is an object the API has a schema for, and valid by it', () => {
    expect(docs.map((d) => `${d.apiVersion} ${d.kind}`))
      .to.deep.equal(['v1 Namespace', 'v1 ServiceAccount', 'apps/v1 DaemonSet']);
    for (const d of docs) validate(d);
  });

  it('the agent is what the issue demands, and agrees with kubectl-scope\'s defaults', () => {
    expect(problems(docs)).to.deep.equal([]);
  });

  /** A copy of the manifests with `change` made to the DaemonSet's pod spec. */
  const changed = (change: (pod: Doc, docs: Doc[]) => void): Doc[] => {
    const copy = structuredClone(docs);
    change(copy.find((d) => d.kind === 'DaemonSet')!.spec.template.spec, copy);
    return copy;
  };
  const daemonSet = (d: Doc[]) => d.find((x) => x.kind === 'DaemonSet')!;

  const broken: [string, (pod: Doc) => void, RegExp][] = [
    ['hostPID as a string', (p) => { p.hostPID = 'true'; }, /hostPID must be boolean/],
    ['capabilities as one string', (p) => { p.containers[0].securityContext.capabilities.add = 'SYS_ADMIN'; },
      /add must be array/],
    ['a mount propagation the API does not have', (p) => { p.containers[0].volumeMounts[0].mountPropagation = 'Up'; },
      /mountPropagation must be equal to one of the allowed values/],
    ['a container without a name', (p) => { delete p.containers[0].name; },
      /containers\/0 must have required property name/],
    ['a hostPath without a path', (p) => { delete p.volumes[0].hostPath.path; },
      /hostPath must have required property path/],
  ];
  for (const [what, change, why] of broken) {
    it(`the schema refuses ${what}`, () => {
      expect(() => validate(daemonSet(changed(change)))).to.throw(why);
    });
  }

  const wrong: [string, (pod: Doc, docs: Doc[]) => void, string][] = [
    ['hostPID misspelt', (p) => { p.hostPid = p.hostPID; delete p.hostPID; }, 'hostPID is not true'],
    ['one capability more', (p) => { p.containers[0].securityContext.capabilities.add.push('NET_ADMIN'); },
      'capabilities added are not exactly'],
    ['a writable host root', (p) => { p.containers[0].volumeMounts[0].readOnly = false; },
      'the host\'s root is not mounted read-only'],
    ['a token mounted', (p) => { p.automountServiceAccountToken = true; }, 'pods mount a token'],
    ['no tolerations', (p) => { delete p.tolerations; }, 'no toleration of every taint'],
    ['no requests', (p) => { delete p.containers[0].resources.requests; }, 'no cpu and memory requests'],
    ['a ClusterRoleBinding', (_p, d) => {
      d.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'x' } });
    }, 'API rights granted: ClusterRoleBinding'],
  ];
  for (const [what, change, says] of wrong) {
    it(`the agent's checks catch ${what}`, () => {
      expect(problems(changed(change)).join('\n')).to.contain(says);
    });
  }
});
