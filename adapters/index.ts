// Every built-in adapter, imported for its registration. A new adapter adds one line here.
import './docker';
import './podman';
import './containerd';
import './lxc';
