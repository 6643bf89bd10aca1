// Whether HOST is loopback-only: start-api.ts refuses to listen anywhere else without API keys.

const loopbackHosts = new Set(["127.0.0.1", "::1", "localhost"]);

export function isLoopbackHost(host: string): boolean {
  return loopbackHosts.has(host) || host.startsWith("127.");
}
