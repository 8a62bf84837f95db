// module.yaml's schema, assembled from the kinds: the module's own keys, `hooks`, `settings`, and one
// `resources.<section>` per kind that has a section. Also the JSON Schema `slipway schema` prints.
import { z } from "zod";
import { name, phase, projectFileSchema } from "../config/schema.js";
import { hookSchema } from "./hook/schema.js";
import { sectionKinds } from "./index.js";
import { settingsSchema } from "./setting/schema.js";

// The order users see in `slipway schema` and editors (kinds added later go at the end).
const SCHEMA_ORDER = ["jobs", "models", "endpoints", "schedules", "artifacts", "compute", "pipelines"];
const rank = (key: string) => (SCHEMA_ORDER.includes(key) ? SCHEMA_ORDER.indexOf(key) : SCHEMA_ORDER.length);

const resourceSections = Object.fromEntries(
  [...sectionKinds()].sort((a, b) => rank(a.section!.key) - rank(b.section!.key)).map((k) => {
    const section = k.section!;
    // Endpoint names get their own, more helpful check in the endpoint kind's compile step.
    const key = k.kind === "endpoint" ? z.string() : name(k.kind === "compute" ? "compute environment" : k.kind);
    const record = z.record(key, section.schema).optional();
    return [section.key, section.description ? record.describe(section.description) : record];
  }),
);

export const moduleFileSchema = z
  .strictObject({
    module: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "module names use lowercase letters, digits, _ and -").max(100),
    description: z.string().optional(),
    depends_on: z.array(z.string()).optional(),
    phase: phase.optional(),
    hooks: z.array(hookSchema).optional(),
    settings: settingsSchema.optional(),
    resources: z.strictObject(resourceSections).optional(),
  })
  .describe("module.yaml: one deployable module of a Slipway project");

export type ModuleFile = z.infer<typeof moduleFileSchema>;

/** JSON Schema for editors: one schema that accepts either file, told apart by `project` or `module`. */
export function jsonSchema(which: "project" | "module" | "all" = "all"): Record<string, unknown> {
  const opts = { io: "input" as const, unrepresentable: "any" as const };
  const project = z.toJSONSchema(projectFileSchema, opts) as Record<string, unknown>;
  const module = z.toJSONSchema(moduleFileSchema, opts) as Record<string, unknown>;
  const base = { $schema: "https://json-schema.org/draft/2020-12/schema" };
  if (which === "project") return { ...project, ...base, title: "Slipway project file (slipway.yaml)" };
  if (which === "module") return { ...module, ...base, title: "Slipway module file (module.yaml)" };
  delete project.$schema;
  delete module.$schema;
  return { ...base, title: "Slipway project and module files", oneOf: [project, module] };
}
