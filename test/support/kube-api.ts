/**
 * The few calls of the Kubernetes API that kubectl makes for `get pod`, `get pods` with label and
 * field selectors, and `exec` (discovery, GET pod, LIST pods, GET namespace, the exec upgrade),
 * answered by a local HTTP server from a list of pods, for tests that run a real kubectl. Every answer
 * is an object of the API's documented kinds (APIVersions, APIGroupList, APIResourceList, Namespace,
 * Pod, PodList, Status), checked against the Kubernetes 1.33 schema before it is sent, so a test
 * cannot pass on an answer no API server would give. Every request is recorded.
 * Exec is recorded and refused with a Status: its streams (SPDY) are not played.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { APIGroupList } from '@kubernetes-models/apimachinery/apis/meta/v1/APIGroupList';
import { APIResourceList } from '@kubernetes-models/apimachinery/apis/meta/v1/APIResourceList';
import { APIVersions } from '@kubernetes-models/apimachinery/apis/meta/v1/APIVersions';
import { Status } from '@kubernetes-models/apimachinery/apis/meta/v1/Status';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Pod, type IPod } from 'kubernetes-models/v1/Pod';
import { PodList } from 'kubernetes-models/v1/PodList';

/** A pod of the fake cluster. */
export interface PodFixture {
  namespace: string;
  name: string;
  /** spec.nodeName; none for a pod not scheduled yet. */
  node?: string;
  /** status.phase (default Running). */
  phase?: NonNullable<IPod['status']>['phase'];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Being deleted: metadata.deletionTimestamp is set. */
  deleting?: boolean;
  /** spec.containers' names (default one named app). */
  containers?: string[];
  /** metadata.uid (default one made from namespace and name). */
  uid?: string;
}

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
}

/** The message of the Status that answers every exec. */
export const EXEC_REFUSED = 'this API server records exec requests and runs nothing';

/** Anything with the schema check of kubernetes-models' classes. */
interface Checked {
  validate(): void;
  toJSON(): unknown;
}

/** kubectl asks for the namespace when a get finds nothing, to say whether the namespace exists. */
const NAMESPACE_PATH = /^\/api\/v1\/namespaces\/([^/]+)$/;
const POD_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?(\/exec)?$/;
/** The pods' fields an API server lets a field selector name (a subset of the real list). */
const POD_FIELDS: Record<string, (p: PodFixture) => string> = {
  'metadata.name': (p) => p.name,
  'metadata.namespace': (p) => p.namespace,
  'spec.nodeName': (p) => p.node ?? '',
  'status.phase': (p) => p.phase ?? 'Running',
};

export class FakeKubeApi {
  readonly requests: Recorded[] = [];
  private readonly server = createServer((req, res) => this.answer(req, res));

  constructor(private readonly pods: PodFixture[]) {
    // kubectl exec asks to switch to SPDY; Node hands such a request over here, not as a request.
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => this.refuseExec(req, socket));
  }

  /** Listens on a free port of 127.0.0.1; the server's URL. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** What was asked besides discovery (/api, /apis and below, which kubectl caches). */
  calls(): Recorded[] {
    return this.requests.filter((r) => !/^\/apis?(\/v1)?$/.test(r.path));
  }

  private record(req: IncomingMessage): Recorded {
    const url = new URL(req.url ?? '/', 'http://api');
    const r = { method: req.method ?? '', path: url.pathname, query: url.searchParams };
    this.requests.push(r);
    return r;
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const r = this.record(req);
    const send = (code: number, body: Checked) => {
      body.validate();
      res.writeHead(code, { 'Content-Type': 'application/json' }).end(JSON.stringify(body.toJSON()));
    };
    if (r.method !== 'GET') return send(405, status(405, 'MethodNotAllowed', `${r.method} is not served here`));
    if (r.path === '/api') return send(200, new APIVersions({ versions: ['v1'], serverAddressByClientCIDRs: [] }));
    if (r.path === '/apis') return send(200, new APIGroupList({ groups: [] }));
    if (r.path === '/api/v1') return send(200, RESOURCES);
    const ns = NAMESPACE_PATH.exec(r.path);
    if (ns) {
      const name = decodeURIComponent(ns[1]);
      if (!this.pods.some((p) => p.namespace === name)) {
        return send(404, status(404, 'NotFound', `namespaces "${name}" not found`, name, 'namespaces'));
      }
      return send(200, new Namespace({ metadata: { name, uid: podUid('', name) }, status: { phase: 'Active' } }));
    }
    const m = POD_PATH.exec(r.path);
    if (!m || m[3]) return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const [namespace, name] = [decodeURIComponent(m[1]), m[2] && decodeURIComponent(m[2])];
    if (name) {
      const pod = this.pods.find((p) => p.namespace === namespace && p.name === name);
      if (!pod) return send(404, status(404, 'NotFound', `pods "${name}" not found`, name, 'pods'));
      return send(200, new Pod(podObject(pod)));
    }
    const labels = parseSelector(r.query.get('labelSelector'));
    const fields = parseSelector(r.query.get('fieldSelector'));
    const unknown = fields.find((f) => !POD_FIELDS[f.key]);
    if (unknown) return send(400, status(400, 'BadRequest', `field label not supported: ${unknown.key}`));
    const items = this.pods.filter((p) => p.namespace === namespace
      && labels.every((s) => s.test(p.labels?.[s.key])) && fields.every((s) => s.test(POD_FIELDS[s.key](p))));
    send(200, new PodList({ metadata: { resourceVersion: '1' }, items: items.map(podObject) }));
  }

  private refuseExec(req: IncomingMessage, socket: Duplex): void {
    const r = this.record(req);
    const m = POD_PATH.exec(r.path);
    const body = m?.[3] && r.method === 'POST'
      ? status(403, 'Forbidden', EXEC_REFUSED)
      : status(400, 'BadRequest', `no upgrade for ${r.method} ${r.path}`);
    body.validate();
    const text = JSON.stringify(body.toJSON());
    socket.end(`HTTP/1.1 ${body.code} ${body.reason}\r\nContent-Type: application/json\r\n`
      + `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  }
}

/** The exec a recorded request asked for, as the API's query parameters say it. */
export function execOf(r: Recorded): { namespace: string; pod: string; container: string | null;
  command: string[]; stdin: boolean; tty: boolean; } {
  const m = POD_PATH.exec(r.path);
  if (r.method !== 'POST' || !m?.[3]) throw new Error(`not an exec request: ${r.method} ${r.path}`);
  return {
    namespace: m[1], pod: m[2], container: r.query.get('container'), command: r.query.getAll('command'),
    stdin: r.query.get('stdin') === 'true', tty: r.query.get('tty') === 'true',
  };
}

/** A UID in the API's format, the same for the same pod in every run. */
export function podUid(namespace: string, name: string): string {
  const h = createHash('sha256').update(`${namespace}/${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * A pod as the API gives it. kube-apiserver leaves kind and apiVersion out of a list's items, which the
 * API allows; the schema check here wants them, and kubectl reads either.
 */
function podObject(p: PodFixture): IPod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: p.name, namespace: p.namespace, uid: p.uid ?? podUid(p.namespace, p.name), resourceVersion: '1',
      creationTimestamp: '2024-05-01T10:00:00Z', labels: p.labels, annotations: p.annotations,
      ...(p.deleting ? { deletionTimestamp: '2024-05-01T11:00:00Z', deletionGracePeriodSeconds: 30 } : {}),
    },
    spec: {
      nodeName: p.node,
      containers: (p.containers ?? ['app']).map((name) => ({ name, image: 'registry.example/app:1' })),
    },
    status: { phase: p.phase ?? 'Running' },
  };
}

function status(code: number, reason: string, message: string, name?: string, kind?: string): Status {
  return new Status({ apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message, reason, code,
    ...(name ? { details: { name, kind } } : {}) });
}

/** A label or field selector's requirements: key=value, key==value, key!=value, or key (it exists). */
function parseSelector(text: string | null): { key: string; test: (v: string | undefined) => boolean }[] {
  if (!text) return [];
  return text.split(',').map((term) => {
    const m = /^([^!=]+?)(!=|==|=)(.*)$/.exec(term);
    if (!m) return { key: term, test: (v) => v !== undefined };
    const [, key, op, want] = m;
    return { key, test: (v) => (op === '!=' ? v !== want : v === want) };
  });
}

const RESOURCES = new APIResourceList({
  apiVersion: 'v1', kind: 'APIResourceList', groupVersion: 'v1',
  resources: [
    { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', shortNames: ['ns'],
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
    { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', shortNames: ['po'],
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
    { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
  ],
});
