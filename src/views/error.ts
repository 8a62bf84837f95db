// The error half of the envelope: `{ "ok": false, "error": { code, message, hint, ... } }`.
import { z } from "zod";
import { ERROR_CODES, type ErrorCode } from "../error-codes.js";
import { InvalidInputError, SlipwayError, type Diagnostic } from "../errors.js";
import { lazy } from "./lazy.js";

export const diagnosticSchema = lazy(() =>
  z.strictObject({
    file: z.string().nullable(),
    line: z.number().int().nullable(),
    column: z.number().int().nullable(),
    message: z.string(),
    hint: z.string().nullable(),
  }),
);

export const errorCodeSchema = lazy(() => z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]));

/** code, message, hint; `diagnostics` for invalid input; some codes add detail fields (see the registry). */
export const errorSchema = lazy(() =>
  z.looseObject({
    code: errorCodeSchema(),
    message: z.string(),
    hint: z.string().nullable(),
    diagnostics: z.array(diagnosticSchema()).optional(),
  }),
);

export type ErrorJson = z.infer<ReturnType<typeof errorSchema>>;

export function diagnosticView(d: Diagnostic): z.infer<ReturnType<typeof diagnosticSchema>> {
  return { file: d.location?.file ?? null, line: d.location?.line ?? null, column: d.location?.column ?? null, message: d.message, hint: d.hint ?? null };
}

/** Any thrown value as the `error` object. Unexpected errors are `internal`. */
export function errorView(e: unknown): ErrorJson {
  if (e instanceof SlipwayError) {
    const head = { code: e.code, message: e.message, hint: e.hint ?? null };
    // Detail fields (holder, missing, ...) follow the three fixed ones and can never replace them.
    const body: ErrorJson = { ...head, ...e.details, ...head };
    if (e instanceof InvalidInputError) body.diagnostics = e.diagnostics.map(diagnosticView);
    return body;
  }
  return { code: "internal", message: e instanceof Error ? e.message : String(e), hint: null };
}

/** The error object of a command that finished with a result but not successfully (a failed deploy, a failed run). */
export function failureView(code: ErrorCode, message: string, hint?: string | null): ErrorJson {
  return { code, message, hint: hint ?? null };
}
