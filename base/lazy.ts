/**
 * Node's modules that cost milliseconds to load, loaded by the commands that use them rather than at
 * the start of every command: node:crypto (2-3 ms) hashes payloads and draws random names (install,
 * ipc); node:http (3-4 ms) talks to docker, podman and LXD, which a ctr, cri or classic LXC command
 * never does; node:child_process (2-3 ms) starts plugin programs, which resolve and ps otherwise
 * never spawn.
 */
export const crypto = (): typeof import('node:crypto') => require('node:crypto');
export const http = (): typeof import('node:http') => require('node:http');
export const childProcess = (): typeof import('node:child_process') => require('node:child_process');
