import { register } from '../../core/registry';
import { DockerRuntime } from './docker';

register({
  kind: 'runtime',
  id: 'docker',
  description: 'Docker Engine through its API socket (DOCKER_HOST, default /var/run/docker.sock)',
  make: DockerRuntime,
});
