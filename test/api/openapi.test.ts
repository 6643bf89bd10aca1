import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_BASE_PATH } from "../../api/admin-view.ts";
import { documentSchemas } from "../../api/openapi-schemas.ts";
import { startTestRedis, type TestRedis } from "../helpers/redis.ts";
import { startTestService, type TestService } from "../helpers/service.ts";

// GET /openapi.json describes the API the app really serves: it is valid OpenAPI 3.1, every route
// of the express router is in it (and every path in it is served), and every example in it is
// accepted by the contract's zod schema of its component and by the document's own JSON Schema.
// Real answers of the running service parse with the schemas the document names.

interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object> };
}
interface Media {
  schema?: { $ref?: string };
  example?: unknown;
}
interface Operation {
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
}

/**
 * Not our own API, so not in the document: bull-board's dashboard (its own pages and JSON), and
 * the Judge0 and Piston compatibility APIs, whose clients follow those projects' documentation.
 */
const undocumentedPrefixes = [ADMIN_BASE_PATH, "/judge0", "/api/v2"];

let redis: TestRedis;
let service: TestService;
let doc: Document;

beforeAll(async () => {
  redis = await startTestRedis();
  service = await startTestService({ redisUrl: redis.url, worker: false });
  doc = (await (await service.get("/openapi.json")).json()) as Document;
});

afterAll(async () => {
  await service?.close();
  await redis?.stop();
});

interface RouterLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  /** A Router's `stack`, or nothing for a plain middleware. */
  handle: { stack?: RouterLayer[] };
  /** "mounted_app" for an express app mounted with app.use(): its routes are out of reach. */
  name: string;
  rawPath?: string | string[];
  slash?: boolean;
}

/** Every `METHOD /path` the express router serves, in OpenAPI's path syntax (`/jobs/{id}`). */
function servedRoutes(stack: RouterLayer[], prefix = ""): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const paths = [layer.route.path].flat();
      return paths.flatMap((p) =>
        Object.keys(layer.route?.methods ?? {})
          .filter((method) => method !== "_all")
          .map((method) => `${method} ${(prefix + p).replace(/:(\w+)/g, "{$1}")}`),
      );
    }
    // A router or app mounted at one path or several (`app.use(["/a", "/b"], router)`); "/" adds nothing.
    const mounts = layer.slash ? [""] : [layer.rawPath ?? ""].flat();
    // express wraps a mounted app in a closure: the walk can only name where it is mounted.
    if (layer.name === "mounted_app") return mounts.map((mount) => `mount ${prefix}${mount}`);
    const inner = layer.handle.stack;
    if (!inner) return []; // a plain middleware
    return mounts.flatMap((mount) => servedRoutes(inner, prefix + mount));
  });
}

const documented = () =>
  Object.entries(doc.paths).flatMap(([p, operations]) => Object.keys(operations).map((m) => `${m} ${p}`));

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document, served without a key and readable from other origins", async () => {
    const response = await service.get("/openapi.json");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(doc.openapi).toBe("3.1.0");
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("lists every route the express app serves", () => {
    const app = service.api.app as unknown as { router: { stack: RouterLayer[] } };
    const all = servedRoutes(app.router.stack);
    // Mounted apps hide their routes from the walk; none may hold a route of our own API.
    const mounted = all.filter((route) => route.startsWith("mount "));
    expect(mounted).toContain(`mount ${ADMIN_BASE_PATH}`);
    const ours = mounted.filter((route) => !undocumentedPrefixes.some((p) => route.slice(6).startsWith(p)));
    expect(ours).toEqual([]);
    const served = all.filter(
      (route) => !undocumentedPrefixes.some((prefix) => route.split(" ")[1]?.startsWith(prefix)),
    );
    expect(served).toContain("post /run");
    expect(served).toContain("get /batches/{id}");
    const listed = new Set(documented());
    expect(served.filter((route) => !listed.has(route))).toEqual([]);
  });

  it("lists only paths the app serves, and each answers with a status it documents", async () => {
    const unknownId = "00000000-0000-4000-8000-000000000000";
    for (const route of documented()) {
      const [method, template] = route.split(" ") as [string, string];
      const operation = doc.paths[template]?.[method] as Operation;
      const url = template.replace("{id}", unknownId);
      const response = await fetch(`${service.api.url}${url}`, {
        method: method.toUpperCase(),
        headers: { "content-type": "application/json" },
        body: method === "post" ? "{}" : undefined,
      });
      const text = await response.text();
      const body = response.headers.get("content-type")?.startsWith("application/json")
        ? (JSON.parse(text) as { error?: { code?: string } })
        : {};
      expect({ route, code: body.error?.code }).not.toEqual({ route, code: "E_NOT_FOUND" });
      expect(Object.keys(operation.responses), route).toContain(String(response.status));
    }
  });

  it("has examples that the contract's zod schemas and the document's JSON Schemas both accept", () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajvFormats.default(ajv); // a CommonJS module: its plugin is `default` under NodeNext
    ajv.addSchema({ $id: "doc", components: doc.components });
    const checked: string[] = [];
    for (const [p, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const media = [
          ...Object.values(operation.requestBody?.content ?? {}).map((m) => ["request", m] as const),
          ...Object.entries(operation.responses).flatMap(([status, response]) =>
            Object.values(response.content ?? {}).map((m) => [status, m] as const),
          ),
        ];
        for (const [where, { schema, example }] of media) {
          if (example === undefined) continue;
          const name = schema?.$ref?.replace("#/components/schemas/", "") ?? "";
          const zodSchema = documentSchemas[name as keyof typeof documentSchemas];
          const label = `${method} ${p} ${where} (${name})`;
          expect(zodSchema, `${label}: an example needs a contract schema`).toBeDefined();
          const parsed = zodSchema.safeParse(example);
          expect(parsed.success ? [] : parsed.error.issues, label).toEqual([]);
          const validate = ajv.getSchema(`doc#/components/schemas/${name}`);
          expect(validate?.(example) ? [] : validate?.errors, label).toEqual([]);
          checked.push(label);
        }
      }
    }
    expect(checked.length).toBeGreaterThanOrEqual(30);
    expect(checked.some((label) => label.startsWith("post /run request"))).toBe(true);
  });

  it("names the schemas the running service's answers really have", async () => {
    const read = async (path: string) => (await service.get(path)).json();
    expect(documentSchemas.LanguageList.safeParse(await read("/languages")).success).toBe(true);
    expect(documentSchemas.WorkerList.safeParse(await read("/workers")).success).toBe(true);
    expect(documentSchemas.StatusView.safeParse(await read("/status.json")).success).toBe(true);
    expect(documentSchemas.Health.safeParse(await read("/healthz")).success).toBe(true);
    // No worker in this file: not ready, and the error body says why.
    expect(documentSchemas.ErrorBody.parse(await read("/readyz")).error.code).toBe("E_NOT_READY");
    const accepted = await (await service.post("/jobs", { language: "bash", source: "true" })).json();
    expect(documentSchemas.JobAccepted.safeParse(accepted).success).toBe(true);
    const view = await read(`/jobs/${accepted.id}`);
    expect(documentSchemas.JobView.parse(view).status).toBe("queued");
    const cancelled = await (await service.del(`/jobs/${accepted.id}`)).json();
    expect(documentSchemas.JobView.parse(cancelled).status).toBe("cancelled");
  });
});
