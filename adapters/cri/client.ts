/**
 * A CRI v1 RuntimeService client (proto/api.proto, CRI's own names and field numbers): the calls the
 * adapter reads with, each with a deadline, so that a dead runtime is an error, never a hang.
 */
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { PACKAGE_ROOT } from '../../base/paths';
import { daemonError, loadProtos, unary, type Service } from '../grpc';

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
  private service?: Service;
  private grpcModule?: typeof grpc;

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
    this.service?.close();
    this.service = undefined;
  }

  private call<T>(method: string, req: object): Promise<T> {
    const service = this.connect();
    return unary<T>(service, method, req, new this.grpcModule!.Metadata(),
      this.deadlineMs).catch((err: grpc.ServiceError) => {
      throw daemonError(this.grpcModule!.status, err, 'the CRI runtime', `unix://${this.socketPath}`, method);
    });
  }

  private connect(): Service {
    if (this.service) return this.service;
    const { grpc: grpcJs, pkg } = loadProtos(PROTO_DIR);
    this.grpcModule = grpcJs;
    // kubelet's and crictl's limit: annotations (a pod's preStop hooks, as JSON) make answers large.
    const options = { 'grpc.max_receive_message_length': 16 << 20 };
    this.service = new pkg.runtime.v1.RuntimeService(`unix://${this.socketPath}`,
      grpcJs.credentials.createInsecure(), options) as Service;
    return this.service;
  }
}
