// piston-client (npm) ships no types; this is the part of its API the tests drive.
declare module "piston-client" {
  // biome-ignore lint/suspicious/noExplicitAny: the client hands back the server's JSON unchanged
  type ServerJson = any;
  interface ExecuteConfig {
    language?: string;
    version?: string;
    files?: { name?: string; content: string; encoding?: string }[];
    stdin?: string;
    args?: string[];
    compileTimeout?: number;
    runTimeout?: number;
    compileMemoryLimit?: number;
    runMemoryLimit?: number;
  }
  interface PistonClient {
    runtimes(): Promise<ServerJson>;
    execute(
      language: string | ExecuteConfig,
      code?: string | ExecuteConfig,
      config?: ExecuteConfig,
    ): Promise<ServerJson>;
  }
  export function piston(options?: { server?: string }): PistonClient;
  export default piston;
}
