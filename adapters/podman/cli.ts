/**
 * podman through its command, for when no API socket is listening: `podman container inspect`
 * prints the same libpod JSON the API serves. execFile, never a shell: the reference is an argument.
 */
import type { ToolError } from '../../base/tool';
import type { Container } from '../../core/runtime';
import type { Env, Spawn } from '../../core/tokens';
import { ambiguous, isAmbiguityMessage, notFound, toContainer, type InspectAnswer } from '../docker/api';

export class PodmanCli {
  constructor(private readonly env: Env, private readonly spawn: Spawn, private readonly command = 'podman') {}

  async version(): Promise<string> {
    return (await this.run(['version', '--format', '{{.Client.Version}}'])).trim();
  }

  async inspect(ref: string): Promise<Container> {
    try {
      const [answer] = JSON.parse(await this.run(['container', 'inspect', '--', ref])) as InspectAnswer[];
      return toContainer(answer);
    } catch (err) {
      const said = (err as ToolError).stderr ?? '';
      if (isAmbiguityMessage(said)) throw ambiguous('podman', ref, await this.idsWithPrefix(ref), err);
      if (/no such container/i.test(said)) throw notFound('podman', ref, err);
      throw err;
    }
  }

  async list(): Promise<Container[]> {
    const ids = await this.ids();
    if (!ids.length) return [];
    return (JSON.parse(await this.run(['container', 'inspect', '--', ...ids])) as InspectAnswer[]).map(toContainer);
  }

  private async ids(): Promise<string[]> {
    return (await this.run(['ps', '-a', '--no-trunc', '--format', '{{.ID}}'])).split('\n').filter(Boolean);
  }

  private async idsWithPrefix(prefix: string): Promise<string[]> {
    return (await this.ids().catch(() => [])).filter((id) => id.startsWith(prefix));
  }

  private run(args: string[]): Promise<string> {
    // Without these the command works on the local storage itself, which is the point of falling back:
    // with them it would try the same unreachable service.
    const { CONTAINER_HOST, CONTAINER_CONNECTION, ...env } = this.env;
    return this.spawn(this.command, args, { env });
  }
}
