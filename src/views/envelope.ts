// The envelope every --json document is (see ./documents.ts). A file without zod: every command prints
// one, and only `slipway schema --output` and the tests need the schemas.
import type { ErrorJson } from "./error.js";

/** The whole document a command prints with --json. */
export interface Envelope {
  ok: boolean;
  error?: ErrorJson;
  [field: string]: unknown;
}

export function envelope(fields: object, error?: ErrorJson): Envelope {
  return error ? { ok: false, error, ...fields } : { ok: true, ...fields };
}
