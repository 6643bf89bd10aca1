// Judge0's base64 (Ruby's Base64.encode64 / decode64): answers are wrapped every 60 characters
// with a newline after each line, the last one included, and "" stays ""; clients strip the
// newlines before decoding. Inputs arrive wrapped or not (the Judge0 IDE and the Python SDK wrap
// nothing, curl users paste `base64` output wrapped at 76): whitespace is dropped, then the rest
// must be base64 — garbage is a 422, not silently decoded as Ruby would.

const LINE = 60;

export function encodeJudge0Base64(text: string): string {
  const flat = Buffer.from(text, "utf8").toString("base64");
  let wrapped = "";
  for (let at = 0; at < flat.length; at += LINE) wrapped += `${flat.slice(at, at + LINE)}\n`;
  return wrapped;
}

/** The bytes, or null when the text (whitespace aside) is not base64. */
export function decodeJudge0Base64(text: string): Buffer | null {
  const flat = text.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(flat) || flat.length % 4 === 1) return null;
  return Buffer.from(flat, "base64");
}
