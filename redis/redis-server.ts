import { type ChildProcess, spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { freePort } from "./free-port.ts";

// A redis-server child process we own: the embedded default of `npm start` and the tests' Redis.
// Append-only file on (appendfsync everysec: every acknowledged write has reached the kernel, so a
// killed redis-server loses nothing; only a host crash can lose the last second), RDB snapshots off,
// loopback only. It is "ready" when it logs that it accepts connections, i.e. after the AOF is loaded.

export interface RedisServerOptions {
  /** Data dir (AOF lives here). */
  dir: string;
  /** Default: a free port. */
  port?: number;
  /** Called with redis-server's log lines. */
  onLog?: (line: string) => void;
  /**
   * Kill redis-server when this process dies, even by SIGKILL (via `setpriv --pdeathsig`). Tests use
   * it so a crashed test process leaves nothing behind; `npm start` does not, so a crash of the
   * service never takes the queue down with it.
   */
  dieWithParent?: boolean;
  /** requirepass: clients must AUTH (the URL carries it). */
  password?: string;
  /** Serve TLS only (no plain port); with `clientCaFile`, clients must present a certificate it signed. */
  tls?: { certFile: string; keyFile: string; clientCaFile?: string };
}

const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

export class RedisServer {
  private child: ChildProcess | null = null;
  private stopping = false;
  /** Called when redis-server exits without being asked to. */
  onUnexpectedExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | null = null;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly onLog: (line: string) => void,
    private readonly dieWithParent: boolean,
    private readonly password: string | undefined,
    private readonly tls: RedisServerOptions["tls"],
  ) {}

  static async start(options: RedisServerOptions): Promise<RedisServer> {
    await mkdir(options.dir, { recursive: true });
    const server = new RedisServer(
      options.dir,
      options.port ?? (await freePort()),
      options.onLog ?? (() => {}),
      options.dieWithParent ?? false,
      options.password,
      options.tls,
    );
    await server.launch();
    return server;
  }

  get url(): string {
    const auth = this.password ? `:${encodeURIComponent(this.password)}@` : "";
    return `${this.tls ? "rediss" : "redis"}://${auth}127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts redis-server again on the same port and dir (after stop() or a crash); the AOF is replayed. */
  async launch(): Promise<void> {
    // biome-ignore format: flag/value pairs read best side by side
    const listen = this.tls
      ? [
          "--port", "0",
          "--tls-port", String(this.port),
          "--tls-cert-file", this.tls.certFile,
          "--tls-key-file", this.tls.keyFile,
          ...(this.tls.clientCaFile
            ? ["--tls-ca-cert-file", this.tls.clientCaFile, "--tls-auth-clients", "yes"]
            : ["--tls-auth-clients", "no"]),
        ]
      : ["--port", String(this.port)];
    // biome-ignore format: flag/value pairs read best side by side
    const args = [
      ...listen,
      ...(this.password ? ["--requirepass", this.password] : []),
      "--bind", "127.0.0.1",
      "--dir", this.dir,
      "--appendonly", "yes",
      "--appendfsync", "everysec",
      "--save", "",
      "--daemonize", "no",
      "--logfile", "",
    ];
    const [command, argv] = this.dieWithParent
      ? ["setpriv", ["--pdeathsig", "SIGKILL", "redis-server", ...args]]
      : ["redis-server", args];
    const child = spawn(command as string, argv as string[], { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    this.stopping = false;
    const recent: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error("did not become ready in time")), READY_TIMEOUT_MS);
      const fail = (error: Error) => {
        clearTimeout(timer);
        child.kill("SIGKILL");
        reject(new Error(`start redis-server on port ${this.port}: ${error.message}\n${recent.join("\n")}`));
      };
      const onData = (chunk: Buffer) => {
        for (const line of chunk.toString("utf8").split("\n")) {
          if (!line.trim()) continue;
          recent.push(line);
          if (recent.length > 20) recent.shift();
          this.onLog(line);
          if (line.includes("Ready to accept connections")) {
            clearTimeout(timer);
            resolve();
          }
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      child.once("error", (error) =>
        fail(new Error(`${error.message} (is redis-server installed? run scripts/setup.sh)`)),
      );
      child.once("exit", (code, signal) => {
        fail(new Error(`exited with ${signal ?? code}`));
        if (!this.stopping && this.child === child) this.onUnexpectedExit?.(code, signal);
      });
    });
  }

  /** SIGTERM (redis flushes the AOF and exits), SIGKILL after a timeout. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.stopping = true;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}
