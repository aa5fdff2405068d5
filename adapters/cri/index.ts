import { register } from '../../core/registry';
import { CRI_REF, CriRuntime } from './cri';

register({
  kind: 'runtime',
  id: 'cri',
  description: 'Kubernetes pods through the Container Runtime Interface (CONTAINER_RUNTIME_ENDPOINT, ' +
    'or the first usual socket that answers)',
  make: CriRuntime,
  refPattern: CRI_REF,
  options: [{ name: 'endpoint', help: 'the CRI socket, unix:///path ' +
    '(default: $CONTAINER_RUNTIME_ENDPOINT, else the usual sockets)' }],
});
