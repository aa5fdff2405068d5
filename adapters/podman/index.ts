import { register } from '../../core/registry';
import { injectedInit } from '../options';
import { PodmanRuntime } from './podman';

register({
  type: 'runtime',
  id: 'podman',
  description: 'podman through its API socket (CONTAINER_HOST, /run/podman/podman.sock), or its command when no socket listens',
  init: injectedInit(PodmanRuntime),
});
