/**
 * node:crypto, loaded by the commands that hash or draw random names (install, ipc), not at the start
 * of every command: requiring it costs 2-3 ms.
 */
export const crypto = (): typeof import('node:crypto') => require('node:crypto');
