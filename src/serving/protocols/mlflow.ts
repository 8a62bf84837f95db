// The MLflow scoring protocol, as MLflow's own scoring server (mlflow models serve, MLflow 3.6) speaks
// it: POST /serving-endpoints/NAME/invocations with a JSON body (dataframe_split, dataframe_records,
// instances or inputs; `params` and other keys are ignored) or a CSV body (text/csv), 415 for other
// content types, errors as {"error_code", "message"}, and GET /ping, /health, /version (per server
// and per endpoint). Answers for `onnx` models take MLflow's shapes (response_format `mlflow`): a
// DataFrame in (dataframe_*, CSV) gives records out, one per output element; tensors in (instances,
// inputs) give {"predictions": {OUTPUT: nested lists}}. Response format `compact` gives one entry per
// row instead (Slipway's earlier answer). Where Slipway deliberately differs from MLflow is in
// docs/serving.md#compatibility.
import type { GatewayRequest, GatewayResponse } from "../gateway.js";
import type { InvokeResult, TensorCodec } from "../runtimes/runtime.js";
import { BadRequest, UnsupportedMediaType } from "./errors.js";
import { bodyText, jsonResponse, type Protocol } from "./protocol.js";
import { checkValues, elementCount, fromNested, numberAt, toNested, type Tensor, type Tensors, type TensorSpec } from "./tensors.js";
import { SERVER_VERSION } from "./version.js";

export type ResponseFormat = "mlflow" | "compact";

const FORMATS = ["dataframe_split", "dataframe_records", "instances", "inputs"] as const;

/** A table of rows (dataframe_split, dataframe_records, CSV). */
interface Frame {
  columns?: string[];
  rows: unknown[];
}

/** The request's tensors, and whether they came as a DataFrame (which decides the answer's shape). */
export interface MlflowInput {
  tensors: Tensors;
  frame: boolean;
}

/**
 * A parsed MLflow scoring body -> named tensors for a model with these inputs. A DataFrame goes to
 * the single input as [rows, columns], or column by column to inputs of the same names.
 */
export function parseMlflowRequest(body: unknown, inputs: readonly TensorSpec[]): MlflowInput {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new BadRequest('the body must be a JSON object with one of "dataframe_split", "dataframe_records", "instances" or "inputs"');
  const b = body as Record<string, unknown>;
  const keys = FORMATS.filter((k) => k in b);
  if (keys.length !== 1) {
    throw new BadRequest(keys.length ? `give exactly one of dataframe_split, dataframe_records, instances, inputs (got ${keys.join(", ")})` : 'the body has none of "dataframe_split", "dataframe_records", "instances", "inputs"');
  }
  const first = inputs[0]?.name ?? "input";
  let out: MlflowInput;
  switch (keys[0]!) {
    case "dataframe_split": {
      const split = b.dataframe_split as { columns?: unknown; data?: unknown };
      if (!split || typeof split !== "object" || Array.isArray(split)) throw new BadRequest(`"dataframe_split" must be an object with "data" (a list of rows) and optionally "columns", not ${describe(split)}`);
      if (!Array.isArray(split.data)) throw new BadRequest('"dataframe_split" needs "data": a list of rows (and optionally "columns")');
      if (split.columns !== undefined && (!Array.isArray(split.columns) || !split.columns.every((c) => typeof c === "string"))) throw new BadRequest('"dataframe_split.columns" must be a list of column names');
      out = { tensors: frameTensors({ columns: split.columns as string[] | undefined, rows: split.data }, inputs, "dataframe_split.data"), frame: true };
      break;
    }
    case "dataframe_records":
      out = { tensors: frameTensors(recordsFrame(b.dataframe_records), inputs, "dataframe_records"), frame: true };
      break;
    case "instances":
    case "inputs": {
      const key = keys[0]!;
      const value = b[key];
      if (Array.isArray(value) && value.length > 0 && isPlainObject(value[0]) && key === "instances") {
        // A list of {input: value} objects: one tensor per input, stacked along a new first axis.
        const names = Object.keys(value[0] as object);
        const tensors: Tensors = {};
        for (const name of names) {
          tensors[name] = fromNested(
            value.map((v, i) => {
              if (!isPlainObject(v) || !(name in v)) throw new BadRequest(`instances[${i}] must be an object with the keys of the first (${names.join(", ")})`);
              return (v as Record<string, unknown>)[name];
            }),
            `instances[*].${name}`,
          );
        }
        out = { tensors, frame: false };
      } else if (isPlainObject(value) && key === "inputs") {
        const tensors: Tensors = {};
        for (const [name, v] of Object.entries(value as object)) tensors[name] = fromNested(v, `inputs.${name}`);
        out = { tensors, frame: false };
      } else if (Array.isArray(value)) {
        out = { tensors: { [first]: fromNested(value, key) }, frame: false };
      } else throw new BadRequest(`"${key}" must be a list (of rows or tensors)${key === "inputs" ? " or an object of named inputs" : " or a list of objects of named inputs"}, not ${describe(value)}`);
    }
  }
  // Integer inputs take integers only; float inputs take any number (integers are converted).
  for (const spec of inputs) {
    const t = out.tensors[spec.name];
    if (t && (spec.type === "int32" || spec.type === "int64")) checkValues(t.data as number[], spec.type, `input "${spec.name}"`);
  }
  return out;
}

/** The model's outputs as MLflow's scoring server answers them (`mlflow`), or one entry per row (`compact`). */
export function mlflowResponse(outputs: Tensors, format: ResponseFormat, frame: boolean): { predictions: unknown } {
  const names = Object.keys(outputs);
  if (format === "compact") return { predictions: compactRows(outputs, names) };
  if (!frame) return { predictions: Object.fromEntries(names.map((n) => [n, toNested(outputs[n]!.data, outputs[n]!.shape)])) };
  // MLflow's onnx flavor answers a DataFrame with a DataFrame of one column per output, each output
  // flattened, and the server writes it as records.
  const length = outputs[names[0]!]?.data.length ?? 0;
  for (const n of names) {
    if (outputs[n]!.data.length !== length) throw new BadRequest(`the model's outputs have different sizes (${names.map((m) => `${m}: ${outputs[m]!.data.length}`).join(", ")}), so they cannot be columns of one DataFrame answer; send "inputs" instead, or set the endpoint's response_format to compact`);
  }
  const records = new Array<Record<string, number>>(length);
  for (let i = 0; i < length; i++) {
    const record: Record<string, number> = {};
    for (const n of names) record[n] = numberAt(outputs[n]!.data, i);
    records[i] = record;
  }
  return { predictions: records };
}

/** One entry per row: the row's values (a number for a 1-D output), or with several outputs an object of them. */
function compactRows(outputs: Tensors, names: string[]): unknown[] {
  const toRows = (t: Tensor) => {
    const width = t.shape.length > 1 ? elementCount(t.shape.slice(1)) : 1;
    const out: unknown[] = [];
    for (let i = 0; i < t.data.length; i += width) {
      if (width === 1 && t.shape.length === 1) out.push(numberAt(t.data, i));
      else {
        const row = new Array<number>(width);
        for (let j = 0; j < width; j++) row[j] = numberAt(t.data, i + j);
        out.push(row);
      }
    }
    return out;
  };
  if (names.length === 1) return toRows(outputs[names[0]!]!);
  const perName = Object.fromEntries(names.map((n) => [n, toRows(outputs[n]!)]));
  const count = perName[names[0]!]!.length;
  return Array.from({ length: count }, (_, i) => Object.fromEntries(names.map((n) => [n, perName[n]![i]])));
}

/** The codec the onnx runtime uses for one MLflow request. */
export function mlflowCodec(body: unknown, format: ResponseFormat): TensorCodec {
  let frame = false;
  return {
    decode(model) {
      const parsed = parseMlflowRequest(body, model.inputs);
      frame = parsed.frame;
      return parsed.tensors;
    },
    encode(outputs): InvokeResult {
      return { status: 200, body: mlflowResponse(outputs, format, frame) };
    },
  };
}

/** dataframe_records -> a frame whose columns are the keys in first-seen order; every record needs every column. */
function recordsFrame(records: unknown): Frame {
  if (!Array.isArray(records) || records.length === 0) throw new BadRequest('"dataframe_records" must be a non-empty list of objects');
  const columns: string[] = [];
  const seen = new Set<string>();
  records.forEach((r, i) => {
    if (!isPlainObject(r)) throw new BadRequest(`dataframe_records[${i}] is not an object`);
    for (const k of Object.keys(r as object)) if (!seen.has(k)) (seen.add(k), columns.push(k));
  });
  const rows = records.map((r, i) =>
    columns.map((c) => {
      if (!(c in (r as object))) throw new BadRequest(`dataframe_records[${i}] has no "${c}" (every record needs every column)`);
      return (r as Record<string, unknown>)[c];
    }),
  );
  return { columns, rows };
}

/** A DataFrame -> the model's tensors: the whole table to a single input, or one column per input by name. */
function frameTensors(frame: Frame, inputs: readonly TensorSpec[], where: string): Tensors {
  const { rows, columns } = frame;
  if (rows.length === 0) throw new BadRequest(`${where} has no rows`);
  const width = Array.isArray(rows[0]) ? (rows[0] as unknown[]).length : -1;
  if (width <= 0) throw new BadRequest(`${where}[0] must be a non-empty list of values`);
  if (columns && columns.length !== width) throw new BadRequest(`${where}: ${columns.length} column name(s) but rows of ${width} value(s)`);
  const data: number[] = new Array(rows.length * width);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (!Array.isArray(row) || row.length !== width) throw new BadRequest(`${where}[${i}] must be a list of ${width} numbers, like the first row`);
    for (let j = 0; j < width; j++) {
      const v = row[j];
      if (typeof v !== "number" || !Number.isFinite(v)) throw new BadRequest(`${where}[${i}][${j}] is ${JSON.stringify(v) ?? String(v)}, not a number`);
      data[i * width + j] = v;
    }
  }
  if (inputs.length <= 1) return { [inputs[0]?.name ?? "input"]: { shape: [rows.length, width], data } };
  // Several inputs: each takes the column of its name, as [rows] (or [rows, 1] for a 2-D input).
  if (!columns) throw new BadRequest(`the model takes several inputs (${inputs.map((i) => i.name).join(", ")}): name the DataFrame's columns after them, or send "inputs" as an object`);
  const tensors: Tensors = {};
  for (const spec of inputs) {
    const j = columns.indexOf(spec.name);
    if (j < 0) throw new BadRequest(`the DataFrame has no column "${spec.name}" (the model takes ${inputs.map((i) => i.name).join(", ")}, one column each)`);
    tensors[spec.name] = { shape: spec.shape.length === 2 ? [rows.length, 1] : [rows.length], data: Array.from({ length: rows.length }, (_, i) => data[i * width + j]!) };
  }
  return tensors;
}

/**
 * text/csv, as pandas.read_csv reads DataFrame.to_csv(index=False): a header line of column names,
 * then rows; quoted fields, CRLF and blank lines allowed. Numbers become numbers, anything else stays
 * text (and is refused by a model that takes numbers). An empty field is refused (pandas reads NaN).
 */
export function parseCsv(text: string): { columns: string[]; data: unknown[][] } {
  const records: string[][] = [];
  let field = "";
  let record: string[] = [];
  let quoted = false;
  let wasQuoted = false;
  const endField = () => {
    record.push(wasQuoted ? `\u0000${field}` : field);
    field = "";
    wasQuoted = false;
  };
  const endRecord = () => {
    endField();
    if (!(record.length === 1 && record[0] === "")) records.push(record);
    record = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') (field += '"', i++);
        else quoted = false;
      } else field += c;
    } else if (c === '"' && field === "") (quoted = true, (wasQuoted = true));
    else if (c === ",") endField();
    else if (c === "\n") endRecord();
    else if (c === "\r") {
      if (text[i + 1] !== "\n") endRecord();
    } else field += c;
  }
  if (quoted) throw new BadRequest("the CSV body ends inside a quoted field");
  if (field !== "" || record.length) endRecord();
  if (records.length === 0) throw new BadRequest("the CSV body is empty: it needs a header line of column names and at least one row");
  const unquote = (f: string) => (f.startsWith("\u0000") ? f.slice(1) : f);
  const columns = records[0]!.map(unquote);
  const data = records.slice(1).map((r, i) => {
    if (r.length !== columns.length) throw new BadRequest(`CSV line ${i + 2} has ${r.length} field(s), the header has ${columns.length}`);
    return r.map((f, j) => {
      const value = unquote(f).trim();
      if (value === "") throw new BadRequest(`CSV line ${i + 2}, column "${columns[j]}" is empty`);
      return NUMBER.test(value) ? Number(value) : unquote(f);
    });
  });
  return { columns, data };
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Which body a content type is: JSON, CSV, or 415 (as MLflow's server: only charset=utf-8 as a parameter). No content type reads as JSON. */
export function mediaType(contentType: string | undefined): "json" | "csv" {
  if (contentType === undefined || contentType === "application/json") return "json";
  if (contentType.trim() === "") return "json";
  const [mime, ...params] = contentType.split(";").map((p) => p.trim());
  for (const p of params) {
    const [key, value = ""] = p.split("=").map((s) => s.trim());
    if (key!.toLowerCase() !== "charset") throw new UnsupportedMediaType(`Unrecognized content type parameters: ${key}. This endpoint reads application/json or text/csv.`);
    if (value.replace(/^"|"$/g, "").toLowerCase() !== "utf-8") throw new UnsupportedMediaType("The scoring server only supports UTF-8");
  }
  const type = mime!.toLowerCase();
  if (type === "application/json") return "json";
  if (type === "text/csv") return "csv";
  throw new UnsupportedMediaType(`This predictor only supports the following content types: Types: ['text/csv', 'application/json']. Got '${contentType}'.`);
}

const isPlainObject = (v: unknown): boolean => !!v && typeof v === "object" && !Array.isArray(v);
const describe = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "a list" : typeof v === "string" ? "a string" : typeof v);

const error = (status: number, code: string, message: string, headers: Record<string, string> = {}): GatewayResponse =>
  // MLflow's server answers 415 in plain text; every other error as {"error_code", "message"}.
  status === 415 ? { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers }, body: message } : jsonResponse(status, { error_code: code, message }, headers);

/** MLflow's /ping and /health: 200 with a newline. */
const pong = (): GatewayResponse => ({ status: 200, headers: { "content-type": "application/json" }, body: "\n" });

export const mlflow: Protocol = {
  name: "mlflow",
  error,
  routes: [
    {
      method: "POST",
      path: /^\/serving-endpoints\/([^/]+)\/invocations$/,
      handle: (request, [name], gateway) =>
        gateway.infer(request, name!, {
          protocol: mlflow,
          read(req: GatewayRequest, endpoint) {
            const contentType = req.header("content-type");
            const kind = mediaType(contentType);
            const text = bodyText(req.body);
            let body: unknown;
            if (kind === "csv") body = { dataframe_split: parseCsv(text) };
            else {
              try {
                body = JSON.parse(text);
              } catch (e) {
                throw new BadRequest(`the body is not valid JSON: ${(e as Error).message}`);
              }
            }
            let clientRequestId = req.header("x-client-request-id");
            if (body && typeof body === "object" && !Array.isArray(body) && "client_request_id" in body) {
              const { client_request_id, ...rest } = body as Record<string, unknown>;
              clientRequestId = String(client_request_id);
              body = rest;
            }
            return { protocol: "mlflow", body, raw: req.body, contentType: contentType ?? "application/json", codec: mlflowCodec(body, endpoint.config.responseFormat ?? "mlflow"), clientRequestId, logText: text };
          },
        }),
    },
    {
      method: "GET",
      path: /^\/serving-endpoints\/([^/]+)\/(ping|health|version)$/,
      handle(_request, [name, what], gateway) {
        const endpoint = gateway.endpoints.get(name!);
        if (!endpoint) return gateway.notServed(mlflow, name!);
        if (what === "version") return { status: 200, headers: { "content-type": "application/json" }, body: SERVER_VERSION };
        if (endpoint.served.some((s) => s.ready())) return pong();
        return error(503, "TEMPORARILY_UNAVAILABLE", `endpoint ${name} is not ready yet`, { "retry-after": "1" });
      },
    },
    { method: "GET", path: /^\/(?:ping|health)$/, handle: pong },
    { method: "GET", path: /^\/version$/, handle: () => ({ status: 200, headers: { "content-type": "application/json" }, body: SERVER_VERSION }) },
  ],
};
