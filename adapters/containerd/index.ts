// containerd's two adapters and the gRPC client they share.
import { register } from '../../core/registry';
import { ContainerdClient } from './client';
import { CtrRuntime } from './ctr';
import { NerdctlRuntime } from './nerdctl';

const NAMESPACE = {
  name: 'namespace', flag: '--namespace <ns>',
  help: 'containerd namespace for the ctr and nerdctl adapters (default: $CONTAINERD_NAMESPACE or "default")',
};

register({
  kind: 'client',
  id: 'containerd',
  description: 'gRPC client of containerd (CONTAINERD_ADDRESS, default /run/containerd/containerd.sock)',
  make: ContainerdClient,
});

register({
  kind: 'runtime',
  id: 'ctr',
  description: 'containerd containers by ID, in one namespace (default "default")',
  make: CtrRuntime,
  options: [NAMESPACE],
});

register({
  kind: 'runtime',
  id: 'nerdctl',
  description: 'containers nerdctl made, by their nerdctl/name label or ID prefix, through containerd',
  make: NerdctlRuntime,
  options: [NAMESPACE],
});
