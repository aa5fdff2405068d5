import { register } from '../../core/registry';
import { PodmanRuntime } from './podman';

register({
  kind: 'runtime',
  id: 'podman',
  description: 'podman through its API socket (CONTAINER_HOST, /run/podman/podman.sock), ' +
    'or its command when no socket listens',
  make: PodmanRuntime,
});
