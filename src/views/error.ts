// The error half of the envelope: `{ "ok": false, "error": { code, message, hint, ... } }`.
import { z } from "zod";
import { ERROR_CODES, type ErrorCode } from "../error-codes.js";
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

export { diagnosticView, errorView, failureView } from "./error-view.js";
