/**
 * Reads a Server-Sent Events response body (eventsource-parser, the maintained
 * parser): each message as it completes, until the body ends. A line longer
 * than the parser's buffer cap ends the read (hostile or broken server).
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export async function* sseMessages(body: ReadableStream<Uint8Array>): AsyncGenerator<EventSourceMessage> {
  const ready: EventSourceMessage[] = [];
  let broken: Error | null = null;
  const parser = createParser({
    onEvent: (message) => ready.push(message),
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') broken = error;
    },
    maxBufferSize: MAX_MESSAGE_BYTES,
  });
  const decoder = new TextDecoder();
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    if (broken) throw broken;
    yield* ready.splice(0);
  }
}
