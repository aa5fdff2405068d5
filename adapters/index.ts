// Every built-in adapter, imported for its registration: what a composition root imports to have
// them all (the CLI does). A new adapter adds one line here.
import './docker';
import './podman';
import './containerd';
import './lxc';
import './cri';
