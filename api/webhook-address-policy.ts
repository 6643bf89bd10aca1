import { lookup } from "node:dns/promises";
import net from "node:net";
import type { WebhookConfig } from "../config/load-config.ts";

// Server-side request forgery guard for callback URLs. A callback must not let a client make the
// service POST to its own loopback, the cloud metadata endpoint (169.254.169.254), or the private
// network it sits in. So the host is resolved and *every* address it resolves to is checked (one
// bad address is enough to refuse: DNS answers can rotate), and the delivery then connects to an
// address checked that moment (deliver-webhook.ts pins it through `lookup`), which closes the
// DNS-rebinding gap between check and connect. IPv4-mapped IPv6 (::ffff:10.0.0.1) is checked as
// the IPv4 address it is. WEBHOOK_ALLOW_CIDRS punches holes (tests allow 127.0.0.0/8),
// WEBHOOK_DENY_CIDRS adds ranges.

const deniedByDefault: [string, number, "ipv4" | "ipv6"][] = [
  ["0.0.0.0", 8, "ipv4"], // "this network", unspecified
  ["10.0.0.0", 8, "ipv4"], // RFC 1918
  ["100.64.0.0", 10, "ipv4"], // CGNAT, RFC 6598
  ["127.0.0.0", 8, "ipv4"], // loopback
  ["169.254.0.0", 16, "ipv4"], // link-local, cloud metadata
  ["172.16.0.0", 12, "ipv4"], // RFC 1918
  ["192.0.0.0", 24, "ipv4"], // IETF protocol assignments
  ["192.168.0.0", 16, "ipv4"], // RFC 1918
  ["198.18.0.0", 15, "ipv4"], // benchmarking
  ["224.0.0.0", 4, "ipv4"], // multicast
  ["240.0.0.0", 4, "ipv4"], // reserved, broadcast
  ["::", 128, "ipv6"], // unspecified
  ["::1", 128, "ipv6"], // loopback
  ["64:ff9b::", 96, "ipv6"], // NAT64: would reach IPv4 space unchecked
  ["fc00::", 7, "ipv6"], // unique local (ULA)
  ["fe80::", 10, "ipv6"], // link-local
  ["fec0::", 10, "ipv6"], // old site-local
  ["ff00::", 8, "ipv6"], // multicast
];

function parseCidrs(list: string, into: net.BlockList, variable: string): void {
  for (const entry of list
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [address, bits] = entry.split("/");
    const family = net.isIP(address ?? "");
    const prefix = Number(bits ?? (family === 6 ? 128 : 32));
    if (!address || family === 0 || !Number.isInteger(prefix)) {
      throw new Error(`invalid configuration: ${variable}: "${entry}" is not a CIDR like 10.0.0.0/8`);
    }
    into.addSubnet(address, prefix, family === 6 ? "ipv6" : "ipv4");
  }
}

export class WebhookAddressPolicy {
  private readonly allow = new net.BlockList();
  private readonly deny = new net.BlockList();

  constructor(config: Pick<WebhookConfig, "WEBHOOK_ALLOW_CIDRS" | "WEBHOOK_DENY_CIDRS">) {
    for (const [address, prefix, family] of deniedByDefault) this.deny.addSubnet(address, prefix, family);
    parseCidrs(config.WEBHOOK_DENY_CIDRS, this.deny, "WEBHOOK_DENY_CIDRS");
    parseCidrs(config.WEBHOOK_ALLOW_CIDRS, this.allow, "WEBHOOK_ALLOW_CIDRS");
  }

  /** Why an address may not be reached, or null if it may. */
  refusal(address: string): string | null {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const ip = mapped ?? address;
    const family = net.isIP(ip) === 6 ? "ipv6" : "ipv4";
    if (this.allow.check(ip, family)) return null;
    if (this.deny.check(ip, family)) return `address ${address} is in a denied range`;
    return null;
  }

  /** Resolves `hostname` and returns its addresses if every one is allowed; throws naming the first refused. */
  async resolve(hostname: string): Promise<{ address: string; family: number }[]> {
    const bare = hostname.replace(/^\[|\]$/g, "");
    const addresses = net.isIP(bare)
      ? [{ address: bare, family: net.isIP(bare) }]
      : await lookup(bare, { all: true, verbatim: true }).catch((error: NodeJS.ErrnoException) => {
          throw new Error(`host ${bare} does not resolve (${error.code ?? error.message})`);
        });
    if (addresses.length === 0) throw new Error(`host ${bare} has no addresses`);
    for (const { address } of addresses) {
      const why = this.refusal(address);
      if (why) throw new Error(`host ${bare}: ${why}`);
    }
    return addresses;
  }
}
