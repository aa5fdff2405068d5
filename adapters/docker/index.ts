import { register } from '../../core/registry';
import { injectedInit } from '../options';
import { DockerRuntime } from './docker';

register({
  type: 'runtime',
  id: 'docker',
  description: 'Docker Engine through its API socket (DOCKER_HOST, default /var/run/docker.sock)',
  init: injectedInit(DockerRuntime),
});
