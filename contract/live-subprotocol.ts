// How a browser authenticates a WebSocket (/ws): the WebSocket API cannot set headers, so the
// key travels in Sec-WebSocket-Protocol as one offered subprotocol, `cellblock.key.<base64url of
// the key>` (base64url: every character is a token character the header allows), next to the
// real one, `cellblock.live`, which is the one the server selects and echoes — the key is never
// sent back. Kubernetes' API server takes bearer tokens the same way. The web pages import types
// only (no contract code in their bundle): their copies of the names are checked against the types
// below (web/src/playground/run-transport.ts).

export const LIVE_SUBPROTOCOL = "cellblock.live";
export type LiveSubprotocol = typeof LIVE_SUBPROTOCOL;
export const KEY_SUBPROTOCOL_PREFIX = "cellblock.key.";
export type KeySubprotocol = `${typeof KEY_SUBPROTOCOL_PREFIX}${string}`;

/** The subprotocol that carries a key, given as base64url of its UTF-8 bytes. */
export function keySubprotocol(encodedKey: string): KeySubprotocol {
  return `${KEY_SUBPROTOCOL_PREFIX}${encodedKey}`;
}

/** The key's base64url text from an offered subprotocol list; undefined when none carries one. */
export function encodedKeyOf(protocols: Iterable<string>): string | undefined {
  for (const protocol of protocols)
    if (protocol.startsWith(KEY_SUBPROTOCOL_PREFIX)) return protocol.slice(KEY_SUBPROTOCOL_PREFIX.length);
  return undefined;
}

/** The subprotocol a server selects: any offered one but a key; false (none) when only keys are offered. */
export function selectedSubprotocol(protocols: Iterable<string>): string | false {
  for (const protocol of protocols) if (!protocol.startsWith(KEY_SUBPROTOCOL_PREFIX)) return protocol;
  return false;
}
