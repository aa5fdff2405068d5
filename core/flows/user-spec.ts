/** `--user U[:G]` and `--owner U:G`: numbers, or names looked up in the container's own /etc files. */
import type { ContainerFs } from '../../native/files';
import { ScopeError } from '../../base/errors';

export interface Ids {
  uid: number;
  gid: number;
}

export async function parseUserSpec(spec: string, fs: ContainerFs): Promise<Ids> {
  const m = /^([^:]+)(?::([^:]+))?$/.exec(spec);
  if (!m) throw new ScopeError('E_USAGE', `invalid user "${spec}": give UID[:GID] or NAME[:GROUP]`);
  const uid = /^\d+$/.test(m[1]) ? Number(m[1]) : await lookup(fs, '/etc/passwd', m[1], 'user');
  let gid: number;
  if (m[2] !== undefined) gid = /^\d+$/.test(m[2]) ? Number(m[2]) : await lookup(fs, '/etc/group', m[2], 'group');
  else gid = await primaryGroup(fs, uid);
  return { uid, gid };
}

/** The container's files are read as its root, confined to its root directory like every read. */
async function entries(fs: ContainerFs, file: string): Promise<string[][]> {
  const text = (await fs.read(file, { uid: 0, gid: 0, maxBytes: 4 << 20 }).catch(() => Buffer.from(''))).toString();
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
}

/** The container wrote these files: a field that is not a plain number is refused, never read as 0 (root). */
function id(field: string | undefined, file: string, name: string): number {
  if (field === undefined || !/^\d{1,10}$/.test(field)) {
    throw new ScopeError('E_USAGE',
      `the container's ${file} gives "${name}" no valid ID (${JSON.stringify(field ?? '')})`);
  }
  return Number(field);
}

async function lookup(fs: ContainerFs, file: string, name: string, what: string): Promise<number> {
  const hit = (await entries(fs, file)).find((f) => f[0] === name);
  if (!hit) throw new ScopeError('E_USAGE', `no ${what} "${name}" in the container's ${file}`);
  return id(hit[2], file, name);
}

/** The user's group from /etc/passwd, or a group numbered like the user when it has no entry. */
async function primaryGroup(fs: ContainerFs, uid: number): Promise<number> {
  const hit = (await entries(fs, '/etc/passwd')).find((f) => /^\d+$/.test(f[2] ?? '') && Number(f[2]) === uid);
  return hit ? id(hit[3], '/etc/passwd', hit[0]) : uid;
}
