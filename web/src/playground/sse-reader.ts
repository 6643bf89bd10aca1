// Reads a Server-Sent Events body as it arrives (fetch + ReadableStream rather than EventSource,
// which cannot send the API key header). The format's rules that our streams use: events end at a
// blank line; `id:`, `event:` and `data:` fields (several data lines join with "\n"); a line
// starting with ":" is a comment (the server's idle keep-alive); CRLF, CR and LF all end lines;
// one optional space after the colon is dropped.

export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
}

export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  // stream: true keeps a UTF-8 character cut between two reads whole.
  const decoder = new TextDecoder();
  const parser = new SseParser();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      // At the end a trailing CR is a whole line end; before it, it may be the first half of CRLF.
      buffer = done
        ? `${buffer}${decoder.decode()}`.replace(/\r$/, "\r\n")
        : buffer + decoder.decode(value, { stream: true });
      const lines = buffer.split(/\r\n|\r(?!$)|\n/);
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        const message = parser.line(line);
        if (message) yield message;
      }
      if (done) return;
    }
  } finally {
    reader.releaseLock();
  }
}

class SseParser {
  private message: SseMessage = { id: null, event: "message", data: "" };
  private hasData = false;

  /** Takes one line; the finished message at a blank line that ends one with data. */
  line(line: string): SseMessage | null {
    if (line === "") {
      const finished = this.hasData ? this.message : null;
      this.message = { id: this.message.id, event: "message", data: "" };
      this.hasData = false;
      return finished;
    }
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const raw = colon === -1 ? "" : line.slice(colon + 1);
    const value = raw.startsWith(" ") ? raw.slice(1) : raw;
    if (field === "id") this.message.id = value;
    else if (field === "event") this.message.event = value;
    else if (field === "data") {
      this.message.data = this.hasData ? `${this.message.data}\n${value}` : value;
      this.hasData = true;
    }
    return null;
  }
}
