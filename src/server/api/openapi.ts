// The OpenAPI 3.1 document of /api/v1, generated from the route table and the same zod schemas the
// CLI's --json documents use (src/views/documents.ts), so other languages can generate clients.
import { z } from "zod";
import { ERROR_CODES } from "../../error-codes.js";
import { documentSchema } from "../../views/documents.js";
import { errorSchema } from "../../views/error.js";
import { ROUTES } from "./routes.js";

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorBody = jsonSchema(z.looseObject({ error_code: z.enum(Object.keys(ERROR_CODES) as [string, ...string[]]), message: z.string(), hint: z.string().nullable(), ok: z.literal(false), error: errorSchema() }));
  for (const route of ROUTES) {
    const path = `/api/v1${route.path.replace(/:([a-z0-9_]+)/g, "{$1}")}`;
    const params = [...route.path.matchAll(/:([a-z0-9_]+)/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
    const input = route.input?.();
    const query = input && (route.method === "GET" || route.method === "DELETE")
      ? Object.entries(input.shape).map(([name, s]) => ({ name, in: "query", required: !(s as z.ZodType).safeParse(undefined).success, schema: jsonSchema(s as z.ZodType), ...((s as z.ZodType).description ? { description: (s as z.ZodType).description } : {}) }))
      : [];
    const operation: Record<string, unknown> = {
      operationId: `${route.method.toLowerCase()}${route.path.replace(/[/:{}-]+([a-z0-9])?/g, (_m, ch: string | undefined) => (ch ? ch.toUpperCase() : ""))}`,
      summary: route.summary,
      description: `Access: ${route.access}.${route.audit ? ` Audited as \`${route.audit}\`.` : ""}${route.command ? ` Answers with the document of \`slipway ${route.command} --json\`.` : ""}`,
      tags: [route.path.startsWith("/projects") ? route.path.split("/")[3] ?? "projects" : route.path.split("/")[1]!],
      security: route.public ? [] : [{ bearer: [] }, { session: [] }],
      parameters: [...params, ...query],
      responses: {
        "200": {
          description: route.progress ? "the document; with Accept: application/x-ndjson, progress events one per line, then {document} (docs/api.md#progress-newline-delimited-json)" : "the document",
          content: {
            "application/json": { schema: route.command ? jsonSchema(documentSchema(route.command)) : { type: "object" } },
            ...(route.progress ? { "application/x-ndjson": { schema: { type: "object", description: "one JSON object per line: a progress event, {task, line} (logs), then {document} or {failure}" } } } : {}),
          },
        },
        default: { description: "an error: status from the error code (see docs/cli.md#errors)", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
      },
    };
    if (input && route.method !== "GET" && route.method !== "DELETE") operation.requestBody = { required: true, content: { "application/json": { schema: jsonSchema(input) } } };
    if (route.rawBody) operation.requestBody = { required: true, content: { "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } } } };
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  paths["/api/v1/openapi.json"] = { get: { operationId: "getOpenapi", summary: "this document", security: [], responses: { "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } } } } };
  return {
    openapi: "3.1.0",
    info: { title: "Slipway API", version: "1", description: "Every operation of the slipway CLI over HTTP. Successful answers are the CLI's --json documents; errors carry error_code, message and hint." },
    servers: [{ url: "/" }],
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "a token from `slipway tokens create` (swt_…)" }, session: { type: "apiKey", in: "cookie", name: "slipway_session", description: "the dashboard's session (POST /api/v1/session); changes also need the header X-Slipway-CSRF: 1 and this server's Origin" } }, schemas: { Error: errorBody } },
    paths,
  };
}
