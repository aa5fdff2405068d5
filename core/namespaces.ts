/** The namespace names `--ns` takes, for the command line's help: without the flows that use them. */
export { NAMESPACES, parseNamespaces, type Namespace } from '../native/target';
