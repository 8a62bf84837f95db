// The binary tensor data extension of the Open Inference Protocol (Triton's, which tritonclient and
// KServe's client use by default): a body is a JSON object followed by the tensors' bytes, in the
// order of the tensors in the JSON, each little-endian and row-major without padding; the
// `Inference-Header-Content-Length` header gives the JSON object's length in bytes. Each binary
// tensor says its size in `parameters.binary_data_size`.
import { BadRequest } from "./errors.js";
import type { Body } from "./protocol.js";

export const HEADER_LENGTH = "inference-header-content-length";

/** A request body -> its JSON text and its binary section (none without Inference-Header-Content-Length). */
export function splitBody(body: Body, headerLength: string | undefined): { json: string; binary?: Buffer } {
  if (headerLength === undefined) return { json: typeof body === "string" ? body : body.toString("utf8") };
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  const n = /^\s*\d+\s*$/.test(headerLength) ? Number(headerLength) : NaN;
  if (!Number.isSafeInteger(n) || n > bytes.length) throw new BadRequest(`Inference-Header-Content-Length is ${JSON.stringify(headerLength)}: it must be the length in bytes of the JSON object at the start of the body (the body has ${bytes.length} bytes)`);
  return { json: bytes.toString("utf8", 0, n), binary: bytes.subarray(n) };
}

/** A JSON header and tensors' bytes -> one body, and the length of its JSON part. */
export function joinBody(json: string, parts: Uint8Array[]): { bytes: Buffer; headerLength: number } {
  const headerLength = Buffer.byteLength(json);
  let size = headerLength;
  for (const p of parts) size += p.byteLength;
  // One allocation: the JSON written in place, then each tensor's bytes.
  const bytes = Buffer.allocUnsafe(size);
  bytes.write(json, 0, "utf8");
  let offset = headerLength;
  for (const p of parts) {
    bytes.set(p, offset);
    offset += p.byteLength;
  }
  return { bytes, headerLength };
}

/** A typed array's bytes, without copying (the platform is little-endian; see tensors.ts). */
export const bytesOf = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
