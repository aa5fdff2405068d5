/**
 * User-namespace ID maps (/proc/PID/uid_map, gid_map): "inside outside count" a line. An ID inside
 * maps to outside + (id - inside) within its range (user_namespaces(7)); an ID in no range is an
 * error, never a silent fallback to host root.
 */
import { ScopeError } from './errors';

export interface IdRange {
  inside: number;
  outside: number;
  count: number;
}

export class IdMap {
  constructor(readonly ranges: readonly IdRange[], private readonly kind: 'uid' | 'gid' = 'uid') {}

  /** Parses the text of a uid_map or gid_map file. */
  static parse(text: string, kind: 'uid' | 'gid' = 'uid'): IdMap {
    const ranges = text.split('\n').map((l) => l.trim()).filter(Boolean).map((line) => {
      const [inside, outside, count] = line.split(/\s+/).map(Number);
      if (![inside, outside, count].every((n) => Number.isInteger(n) && n >= 0)) {
        throw new ScopeError('E_INTERNAL', `unreadable ${kind}_map line "${line}"`);
      }
      return { inside, outside, count };
    });
    return new IdMap(ranges, kind);
  }

  /** The host ID of `id` as the container sees it. */
  toHost(id: number): number {
    const r = this.ranges.find((x) => id >= x.inside && id - x.inside < x.count);
    if (!r) throw this.unmapped(id, 'inside the container');
    return r.outside + (id - r.inside);
  }

  /** Whether container ID `id` maps to a host ID. */
  hasContainer(id: number): boolean {
    return this.ranges.some((x) => id >= x.inside && id - x.inside < x.count);
  }

  /** Whether host ID `id` has a name inside the container. */
  hasHost(id: number): boolean {
    return this.ranges.some((x) => id >= x.outside && id - x.outside < x.count);
  }

  /** The container's view of host ID `id`. */
  toContainer(id: number): number {
    const r = this.ranges.find((x) => id >= x.outside && id - x.outside < x.count);
    if (!r) throw this.unmapped(id, 'on the host');
    return r.inside + (id - r.outside);
  }

  /** The container's view, or the kernel's overflow ID (65534, "nobody") for an unmapped host ID. */
  toContainerOrOverflow(id: number): number {
    try {
      return this.toContainer(id);
    } catch {
      return 65534;
    }
  }

  /** True for the initial namespace's map, where every ID is itself. */
  isIdentity(): boolean {
    return this.ranges.every((r) => r.inside === r.outside) &&
      this.ranges.some((r) => r.inside === 0 && r.count >= 0xffffffff);
  }

  private unmapped(id: number, where: string): ScopeError {
    const shown = this.ranges.map((r) => `${r.inside} ${r.outside} ${r.count}`).join('; ') || 'empty';
    return new ScopeError('E_ID_UNMAPPED',
      `${this.kind} ${id} ${where} has no mapping in the container's user namespace ` +
      `(${this.kind}_map: ${shown})`, { details: { id, kind: this.kind, ranges: this.ranges } });
  }
}
