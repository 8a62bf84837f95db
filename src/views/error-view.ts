// The error object of the envelope, made from a thrown value (schemas: ./error.ts). A file without zod:
// every command that fails prints one, and loading the schemas' library is not needed for that.
import type { z } from "zod";
import type { ErrorCode } from "../error-codes.js";
import { InvalidInputError, SlipwayError, type Diagnostic } from "../errors.js";
import type { diagnosticSchema, ErrorJson } from "./error.js";

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
