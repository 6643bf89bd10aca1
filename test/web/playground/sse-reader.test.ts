import { describe, expect, it } from "vitest";
import { readSse, type SseMessage } from "../../../web/src/playground/sse-reader.ts";

// The playground reads event streams with fetch (EventSource cannot send the API key), so it parses
// SSE itself: pieces split anywhere — even inside a CRLF or a UTF-8 character — give the same events.

function streamOf(pieces: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces)
        controller.enqueue(typeof piece === "string" ? encoder.encode(piece) : piece);
      controller.close();
    },
  });
}

async function collect(pieces: (string | Uint8Array)[]): Promise<SseMessage[]> {
  const messages: SseMessage[] = [];
  for await (const message of readSse(streamOf(pieces))) messages.push(message);
  return messages;
}

describe("the playground's SSE reader", () => {
  it("reads id, event and data, skips comments, and joins data lines", async () => {
    const text =
      'id: 1-0\nevent: output\ndata: {"a":1}\n\n: idle\n\nevent: x\ndata: one\ndata:two\n\nid: 2-0\ndata\n\n';
    expect(await collect([text])).toEqual([
      { id: "1-0", event: "output", data: '{"a":1}' },
      { id: "1-0", event: "x", data: "one\ntwo" },
      { id: "2-0", event: "message", data: "" },
    ]);
  });

  it("gives the same events however the body is cut, CRLF and CR line ends included", async () => {
    const text = "id: 5-1\r\nevent: output\r\ndata: ünïcode ✓\r\n\r\nid: 5-2\rdata: b\r\r";
    const bytes = new TextEncoder().encode(text);
    const expected = [
      { id: "5-1", event: "output", data: "ünïcode ✓" },
      { id: "5-2", event: "message", data: "b" },
    ];
    for (let cut = 1; cut < bytes.length; cut++)
      expect(await collect([bytes.slice(0, cut), bytes.slice(cut)])).toEqual(expected);
  });

  it("drops an event cut off before its blank line", async () => {
    expect(await collect(["data: whole\n\ndata: cut"])).toEqual([
      { id: null, event: "message", data: "whole" },
    ]);
  });
});
