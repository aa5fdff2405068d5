/**
 * A CRI v1 RuntimeService client (proto/api.proto, CRI's own names and field numbers): the calls the
 * adapter reads with, each with a deadline, so that a dead runtime is an error, never a hang.
 */
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../base/paths';
import { UnaryClient } from '../../base/grpc';
import { DAEMON_MAX_BYTES, daemonError } from '../grpc';

export const PROTO_DIR = join(PACKAGE_ROOT, 'adapters', 'cri', 'proto');

export type CriState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export interface CriContainer {
  id: string;
  podSandboxId: string;
  metadata: { name: string; attempt: number } | null;
  image: { image: string } | null;
  imageRef: string;
  state: CriState;
  createdAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface CriStatus {
  status: { id: string; state: CriState; image: { image: string } | null; imageRef: string;
    labels: Record<string, string> } | null;
  /** With verbose: runtime-specific JSON strings; containerd and CRI-O put {"pid": N, ...} under "info". */
  info: Record<string, string>;
}

export interface CriVersion {
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export class CriClient {
  private client?: UnaryClient;

  constructor(readonly socketPath: string, readonly deadlineMs: number) {}

  version(): Promise<CriVersion> {
    return this.call<CriVersion>('Version', { version: 'v1' });
  }

  /** Containers (never pod sandboxes) whose labels include every one of `labels`. */
  async listContainers(labels: Record<string, string> = {}): Promise<CriContainer[]> {
    return (await this.call<{ containers: CriContainer[] }>('ListContainers',
      { filter: { labelSelector: labels } })).containers;
  }

  containerStatus(id: string): Promise<CriStatus> {
    return this.call<CriStatus>('ContainerStatus', { containerId: id, verbose: true });
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }

  private call<T>(method: string, req: object): Promise<T> {
    this.client ??= new UnaryClient({ path: this.socketPath }, PROTO_DIR, DAEMON_MAX_BYTES);
    return this.client.call<T>('runtime.v1.RuntimeService', method, req, {}, this.deadlineMs).catch((err) => {
      throw daemonError(err, 'the CRI runtime', `unix://${this.socketPath}`, method);
    });
  }
}
