/**
 * A local HTTP server that speaks the Anthropic Messages API (JSON, no
 * streaming), scripted per test: each POST /v1/messages takes the next reply.
 * Records what it received so tests can check prompt hashes and headers.
 * Test support only; listens on 127.0.0.1.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface ScriptedReply {
  status?: number;
  body?: unknown;
  /** Sent as is instead of `body` (malformed JSON). */
  raw?: string;
  headers?: Record<string, string>;
  /** Never answer (until the server closes). */
  hang?: boolean;
}

export interface MessagesServer {
  url: string;
  received: { headers: IncomingMessage['headers']; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

let nextId = 1;
const usage = (input: number, output: number) => ({ input_tokens: input, output_tokens: output });

export function toolUseReply(uses: { name: string; input: unknown }[], tokens: [number, number], text = 'Let me check.'): ScriptedReply {
  return {
    body: message(
      [{ type: 'text', text }, ...uses.map((u) => ({ type: 'tool_use', id: `toolu_${nextId++}`, name: u.name, input: u.input }))],
      'tool_use',
      tokens,
    ),
  };
}

export function answerReply(text: string, tokens: [number, number]): ScriptedReply {
  return { body: message([{ type: 'text', text }], 'end_turn', tokens) };
}

export function errorReply(status: number, type: string, headers: Record<string, string> = {}): ScriptedReply {
  return { status, body: { type: 'error', error: { type, message: `scripted ${type}` } }, headers };
}

function message(content: unknown[], stopReason: string, [input, output]: [number, number]) {
  return {
    id: `msg_${nextId++}`,
    type: 'message',
    role: 'assistant',
    model: 'claude-test',
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: usage(input, output),
  };
}

export async function startMessagesServer(replies: ScriptedReply[]): Promise<MessagesServer> {
  const received: MessagesServer['received'] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (chunk) => (data += chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.startsWith('/v1/messages')) {
        res.writeHead(404).end();
        return;
      }
      received.push({ headers: req.headers, body: JSON.parse(data) as Record<string, unknown> });
      const reply = replies.shift() ?? errorReply(500, 'api_error');
      if (reply.hang) {
        hanging.add(res);
        return;
      }
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', 'request-id': `req_${nextId++}`, ...reply.headers });
      res.end(reply.raw ?? JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
