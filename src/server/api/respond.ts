// One mapping from errors to HTTP answers, for every route: the status comes from the error-code
// registry (httpStatusOf), the body is the command's --json envelope with `error_code`, `message` and
// `hint` in front. A successful answer is the envelope as the CLI prints it (same view, same bytes).
import { httpStatusOf } from "../../error-codes.js";
import { envelope } from "../../views/documents.js";
import { errorView, type ErrorJson } from "../../views/error.js";
import { redactValue } from "../../util/redact.js";

export interface Answer {
  status: number;
  /** The JSON text (indented like the CLI's documents). */
  body: string;
  headers?: Record<string, string>;
}

/** The body of a document; `error` makes it an unsuccessful one. Secrets are masked like the CLI masks them. */
export function documentAnswer(fields: object, error: ErrorJson | undefined, secrets: readonly string[] = []): Answer {
  const doc = envelope(fields, error);
  const body = error ? { error_code: error.code, message: error.message, hint: error.hint, ...doc } : doc;
  // Masked value by value, as the CLI masks its documents (masking the text could break the JSON).
  return { status: error ? httpStatusOf(error.code) : 200, body: JSON.stringify(redactValue(body, secrets), null, 2) };
}

/** Any thrown value as an answer: its registered status and the error document. */
export function errorAnswer(e: unknown, secrets: readonly string[] = []): Answer {
  const error = errorView(e);
  const answer = documentAnswer({}, error, secrets);
  if (error.code === "rate_limited" && typeof error.retry_after_s === "number") answer.headers = { "retry-after": String(error.retry_after_s) };
  return answer;
}

/** The client's side: the envelope back from an API body (without the API's leading error keys). */
export function envelopeOf(body: Record<string, unknown>): Record<string, unknown> {
  if (body.ok !== false) return body;
  const { error_code: _c, message: _m, hint: _h, ...doc } = body;
  return doc;
}
