import { register } from '../../core/registry';
import { LxcRuntime } from './lxc';

register({
  kind: 'runtime',
  id: 'lxc',
  description: 'LXD and Incus through their REST socket, and classic LXC through lxc-ls/lxc-info (--lxcpath)',
  make: LxcRuntime,
  options: [{
    name: 'lxcpath', flag: '--lxcpath <dir>',
    help: 'where classic LXC containers live, for the lxc adapter (default /var/lib/lxc for root, ' +
      '~/.local/share/lxc for a user, as LXC\'s)',
  }],
});
