// Public JSON of `slipway export k8s|helm`: each field named and copied here.
import { z } from "zod";
import type { ExportResult } from "../operations/export.js";
import { lazy } from "./lazy.js";

export const exportSchema = lazy(() =>
  z.strictObject({
    format: z.enum(["k8s", "helm"]),
    project: z.string(),
    target: z.string(),
    out: z.string().describe("The folder written (absolute)"),
    image: z.string(),
    files: z.array(
      z.strictObject({
        path: z.string().describe("Inside out, with / separators"),
        kinds: z.array(z.string()).describe("Kubernetes kinds of the objects in it (Chart, Values and Notes for the chart's own files)"),
        names: z.array(z.string()),
        address: z.string().nullable().describe("The Slipway resource it comes from"),
      }),
    ),
    removed: z.array(z.string()).describe("Files of the previous export into this folder that this one no longer writes"),
    secret: z.strictObject({ name: z.string(), keys: z.array(z.string()).describe("Keys the Secret must hold; their values are never written") }),
    apply: z.string().describe("The command that applies what was written"),
  }),
);

export function exportView(r: ExportResult): z.infer<ReturnType<typeof exportSchema>> {
  return {
    format: r.format,
    project: r.project,
    target: r.target,
    out: r.out,
    image: r.image,
    files: r.files.map((f) => ({ path: f.path, kinds: [...f.kinds], names: [...f.names], address: f.address })),
    removed: [...r.removed],
    secret: { name: r.secret.name, keys: [...r.secret.keys] },
    apply: r.apply,
  };
}
