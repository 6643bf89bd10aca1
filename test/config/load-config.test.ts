// Configuration (config/): env → zod → frozen groups, each part handed only its own.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, expectTypeOf, it } from "vitest";
import { configRows, renderConfigTable, TABLE_BEGIN, TABLE_END } from "../../config/config-table.ts";
import { type ApiConfig, loadConfig, type WorkerConfig } from "../../config/load-config.ts";
import { IDS_PER_SLOT } from "../../contract/sandbox-identity.ts";

const repo = path.resolve(import.meta.dirname, "../..");

describe("loading the configuration", () => {
  it("an empty environment gives every default, grouped by the part that uses it", () => {
    const config = loadConfig({});
    expect(config.api.HOST).toBe("127.0.0.1");
    expect(config.api.API_KEYS).toEqual([]);
    expect(config.queue.QUEUE_PREFIX).toBe("cellblock");
    expect(config.queue.REDIS_URL).toBeUndefined();
    expect(config.limits.run.wallTimeMs).toBe(5000);
    expect(config.limits.compile.wallTimeMs).toBe(20_000);
    expect(config.limits.ceilings.memoryBytes).toBe(1024 * 1024 * 1024);
    expect(config.sandbox.uidBase).toBe(200_000);
    expect(config.sandbox.CELLBLOCK_TRACE).toBe(false);
    expect(config.images.CELLBLOCK_LANGUAGE_IMAGES).toEqual(new Map());
    expect(config.images.CELLBLOCK_IMAGES).toBe("/var/lib/cellblock/images");
  });

  it("numbers are coerced, lists split, flags read, and the uid base shifted by the slot offset", () => {
    const config = loadConfig({
      PORT: "9000",
      API_KEYS: " k1 , k2,,",
      CELLBLOCK_TRACE: "1",
      SANDBOX_UID_BASE: "300000",
      SANDBOX_SLOT_OFFSET: "4",
      CELLBLOCK_IMAGES: "var/images",
    });
    expect(config.api.PORT).toBe(9000);
    expect(config.api.API_KEYS).toEqual(["k1", "k2"]);
    expect(config.sandbox.CELLBLOCK_TRACE).toBe(true);
    expect(config.sandbox.uidBase).toBe(300_000 + 4 * IDS_PER_SLOT);
    expect(path.isAbsolute(config.images.CELLBLOCK_IMAGES)).toBe(true);
  });

  it("every bad variable is named in one error", () => {
    const bad = () =>
      loadConfig({ PORT: "-1", QUEUE_PREFIX: "a:b", CELLBLOCK_TRACE: "maybe", REDIS_URL: "not a url" });
    expect(bad).toThrow(/^invalid configuration: /);
    for (const name of ["PORT", "QUEUE_PREFIX", "CELLBLOCK_TRACE", "REDIS_URL"]) expect(bad).toThrow(name);
  });

  it("the configuration and each group are frozen", () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    for (const group of Object.values(config)) expect(Object.isFrozen(group)).toBe(true);
  });

  // Checked by the type check (`npm run check`), which covers test/.
  it("the API is not handed the worker's or the sandbox's settings, nor the worker the API's", () => {
    expectTypeOf<ApiConfig>().not.toHaveProperty("worker");
    expectTypeOf<ApiConfig>().not.toHaveProperty("sandbox");
    expectTypeOf<ApiConfig["images"]>().not.toHaveProperty("CELLBLOCK_IMAGES");
    expectTypeOf<WorkerConfig>().not.toHaveProperty("api");
    expectTypeOf<WorkerConfig>().not.toHaveProperty("webhooks");
  });
});

describe("the README's configuration tables", () => {
  it("are exactly what the schema renders (run `npm run docs:config` after changing a variable)", async () => {
    const readme = await readFile(path.join(repo, "README.md"), "utf8");
    const begin = readme.indexOf(TABLE_BEGIN) + TABLE_BEGIN.length;
    const end = readme.indexOf(TABLE_END);
    expect(readme.slice(begin, end).trim()).toBe(renderConfigTable().trim());
  });

  it("every variable has a description and none breaks the table", () => {
    const rows = configRows();
    expect(rows.length).toBeGreaterThan(60);
    for (const row of rows) {
      expect(row.description.length, row.name).toBeGreaterThan(10);
      expect(`${row.description}${row.shownDefault}`, row.name).not.toContain("|");
    }
    expect(new Set(rows.map((row) => row.name)).size).toBe(rows.length);
  });
});
