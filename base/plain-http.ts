/**
 * HTTP to a daemon without TLS (its unix socket, or plain TCP): docker's, podman's and LXD's APIs.
 * Such requests name no TLS server (servername ''): Node's agent would otherwise work one out for every
 * request with net.isIP, whose first call compiles a large expression, 3-4 ms of a command's first request.
 */
import type { Agent, AgentOptions, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { http } from './lazy';

const NO_TLS = { servername: '' };

/** An agent for a client (dockerode) that makes its own requests. */
export function plainAgent(): Agent {
  return new (http().Agent)(NO_TLS as AgentOptions);
}

export function plainRequest(options: RequestOptions, onResponse: (res: IncomingMessage) => void): ClientRequest {
  return http().request({ ...options, ...NO_TLS } as RequestOptions, onResponse);
}
