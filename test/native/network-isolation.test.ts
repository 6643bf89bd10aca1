// The sandbox has its own network namespace with nothing but a loopback: no way out, not even to
// the host's loopback services or the host's abstract unix sockets.
import { describe, expect, it } from "vitest";
import { describe as describeReport, fixture, run } from "./_fixtures.ts";
import { installLeakChecks } from "./_leaks.ts";

installLeakChecks();

async function netProbes(): Promise<Map<string, string>> {
  const report = await run([fixture("net-probe")], { limits: { wallTimeMs: 20_000 } });
  expect(report.status, describeReport(report)).toBe("ok");
  const results = new Map<string, string>();
  for (const line of report.stdout.toString().trim().split("\n")) {
    const [name, outcome] = line.split(" ");
    if (name && outcome) results.set(name, outcome);
  }
  return results;
}

describe("network isolation", () => {
  it.each([
    ["tcp-loopback", "TCP to 127.0.0.1:22 (a host port)"],
    ["tcp-external", "TCP to 1.1.1.1:80"],
    ["udp-loopback", "UDP to 127.0.0.1:53"],
    ["udp-external", "UDP to 1.1.1.1:53"],
    ["inet6-external", "TCP over IPv6 to 2606:4700:4700::1111"],
    ["dns", "DNS resolution of example.com"],
    ["abstract-unix-x11", "the abstract unix socket @/tmp/.X11-unix/X0"],
    ["abstract-unix-systemd", "the abstract unix socket @/org/freedesktop/systemd1/notify"],
    ["netlink", "an AF_NETLINK socket"],
    ["packet", "an AF_PACKET socket"],
    ["vsock", "an AF_VSOCK socket"],
    ["alg", "an AF_ALG socket"],
    ["raw-icmp", "a raw ICMP socket"],
  ])("%s fails: %s", async (name) => {
    const results = await netProbes();
    const outcome = results.get(name);
    expect(outcome, `no result for ${name}: ${JSON.stringify([...results])}`).toBeDefined();
    expect(outcome).toMatch(/^(errno=E[A-Z0-9]+|gai=-?\d+|signal=SIGSYS)$/);
  });

  it("sees no network interface but the loopback", async () => {
    const report = await run(["/usr/bin/cat", "/proc/net/dev"]);
    expect(report.status, describeReport(report)).toBe("ok");
    const interfaces = report.stdout
      .toString()
      .split("\n")
      .slice(2)
      .filter(Boolean)
      .map((line) => line.split(":")[0]?.trim());
    expect(interfaces).toEqual(["lo"]);
  });
});
