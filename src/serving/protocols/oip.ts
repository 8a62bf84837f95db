// The Open Inference Protocol (KServe v2) over HTTP, with Triton's binary tensor data and model
// configuration extensions, as tritonclient.http and KServe's InferenceRESTClient use them:
//   GET  /v2                                        server metadata (name, version, extensions)
//   GET  /v2/health/live, /v2/health/ready
//   GET  /v2/models/NAME[/versions/V]               model metadata
//   GET  /v2/models/NAME[/versions/V]/ready
//   GET  /v2/models/NAME[/versions/V]/config        model configuration (Triton's form)
//   POST /v2/models/NAME[/versions/V]/infer         JSON, or JSON + binary tensor data
// NAME is the endpoint; V a model version it serves (without V, the traffic split chooses). Errors
// are {"error": "..."}. Input datatypes must be the model's: nothing is converted.
import type { GatewayResponse } from "../gateway.js";
import type { LiveEndpoint, ServedVersion } from "../endpoints.js";
import type { InvokeResult, ModelSignature, TensorCodec } from "../runtimes/runtime.js";
import { bytesOf, HEADER_LENGTH, joinBody, splitBody } from "./binary.js";
import { BadRequest } from "./errors.js";
import { jsonResponse, versionName, type GatewayServices, type Protocol } from "./protocol.js";
import { BYTES_PER_ELEMENT, checkValues, elementCount, LITTLE_ENDIAN, OIP_DATATYPE, OIP_DATATYPES, toPlain, toTypedArray, TYPED_ARRAY, type NumericArray, type Tensors, type TensorSpec } from "./tensors.js";
import { SERVER_VERSION } from "./version.js";

/** The extensions GET /v2 lists. */
export const EXTENSIONS = ["binary_tensor_data", "model_configuration"];

interface OipInput {
  name: string;
  shape: number[];
  datatype: string;
  data?: unknown;
  /** This input's bytes in the binary section. */
  binary?: Buffer;
}

export interface OipRequest {
  id?: string;
  inputs: OipInput[];
  /** The outputs asked for (all, in the model's order, when absent), each as binary data or not. */
  outputs?: Array<{ name: string; binary?: boolean }>;
  /** `binary_data_output`: every output as binary data unless it says otherwise. */
  binaryOutput: boolean;
}

/**
 * An inference request's JSON object (and its binary section) -> the request, checked against the
 * protocol: names, shapes, binary_data_size adding up to the binary section exactly.
 */
export function parseOipRequest(body: unknown, binary?: Buffer): OipRequest {
  const b = body as { id?: unknown; inputs?: unknown; outputs?: unknown; parameters?: unknown } | null;
  if (!b || typeof b !== "object" || Array.isArray(b) || !Array.isArray(b.inputs) || b.inputs.length === 0) throw new BadRequest('an inference request needs "inputs": a non-empty list of { name, shape, datatype, data }');
  if (b.id !== undefined && b.id !== null && typeof b.id !== "string") throw new BadRequest('"id" must be a string');
  let offset = 0;
  const names = new Set<string>();
  const inputs = b.inputs.map((input, i): OipInput => {
    const t = input as { name?: unknown; shape?: unknown; data?: unknown; datatype?: unknown; parameters?: unknown };
    if (!t || typeof t !== "object") throw new BadRequest(`inputs[${i}] must be an object { name, shape, datatype, data }`);
    if (typeof t.name !== "string") throw new BadRequest(`inputs[${i}].name must be a string`);
    if (names.has(t.name)) throw new BadRequest(`input "${t.name}" is given twice`);
    names.add(t.name);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new BadRequest(`inputs[${i}].shape must be a list of non-negative integers`);
    if (typeof t.datatype !== "string") throw new BadRequest(`inputs[${i}].datatype must be a string such as "FP32"`);
    const size = (t.parameters as { binary_data_size?: unknown } | undefined)?.binary_data_size;
    const out: OipInput = { name: t.name, shape: t.shape as number[], datatype: t.datatype };
    if (size !== undefined) {
      if (!Number.isSafeInteger(size) || (size as number) < 0) throw new BadRequest(`inputs[${i}].parameters.binary_data_size must be a non-negative integer`);
      if (!binary) throw new BadRequest(`input "${t.name}" has binary_data_size but the request has no Inference-Header-Content-Length header, so it has no binary data`);
      if (offset + (size as number) > binary.length) throw new BadRequest(`the binary data is ${binary.length} bytes, fewer than the inputs' binary_data_size add up to (${offset + (size as number)} by input "${t.name}")`);
      out.binary = binary.subarray(offset, offset + (size as number));
      offset += size as number;
    } else {
      if (t.data === undefined) throw new BadRequest(`input "${t.name}" has neither "data" nor parameters.binary_data_size`);
      out.data = t.data;
    }
    return out;
  });
  if (binary && offset !== binary.length) throw new BadRequest(`the body has ${binary.length} bytes after the JSON object (Inference-Header-Content-Length), but the inputs' binary_data_size add up to ${offset}`);
  const parameters = (b.parameters ?? {}) as Record<string, unknown>;
  if (typeof parameters !== "object" || Array.isArray(parameters)) throw new BadRequest('"parameters" must be an object');
  let outputs: OipRequest["outputs"];
  if (b.outputs !== undefined) {
    if (!Array.isArray(b.outputs)) throw new BadRequest('"outputs" must be a list of { name, parameters }');
    outputs = b.outputs.map((o, i) => {
      const r = o as { name?: unknown; parameters?: Record<string, unknown> };
      if (!r || typeof r.name !== "string") throw new BadRequest(`outputs[${i}].name must be a string`);
      if (r.parameters?.classification !== undefined) throw new BadRequest(`output "${r.name}" asks for classification, an extension Slipway does not support`);
      const binaryData = r.parameters?.binary_data;
      if (binaryData !== undefined && typeof binaryData !== "boolean") throw new BadRequest(`outputs[${i}].parameters.binary_data must be true or false`);
      return { name: r.name, binary: binaryData as boolean | undefined };
    });
  }
  if (parameters.binary_data_output !== undefined && typeof parameters.binary_data_output !== "boolean") throw new BadRequest('parameters.binary_data_output must be true or false');
  return { id: (b.id ?? undefined) as string | undefined, inputs, outputs, binaryOutput: parameters.binary_data_output === true };
}

/** The request's inputs as tensors of the model: each named, of the model's datatype, with as many values as its shape needs. */
export function oipTensors(request: OipRequest, model: ModelSignature): Tensors {
  const tensors: Tensors = {};
  for (const input of request.inputs) {
    const spec = model.inputs.find((s) => s.name === input.name);
    if (!spec) throw new BadRequest(`unknown input "${input.name}"; the model takes ${model.inputs.map((s) => s.name).join(", ")}`);
    const want = OIP_DATATYPE[spec.type];
    if (input.datatype !== want) {
      throw new BadRequest(`input "${input.name}" has datatype ${input.datatype}${OIP_DATATYPES.has(input.datatype) ? "" : " (not an Open Inference Protocol datatype)"}, the model takes ${want}: send ${want} (Slipway converts no datatype)`);
    }
    const count = elementCount(input.shape);
    if (input.binary) {
      const expected = count * BYTES_PER_ELEMENT[spec.type];
      if (input.binary.length !== expected) throw new BadRequest(`input "${input.name}": shape ${JSON.stringify(input.shape)} of ${want} needs ${expected} bytes, binary_data_size is ${input.binary.length}`);
      if (!LITTLE_ENDIAN) throw new BadRequest("binary tensor data is little-endian and this server is not: send JSON data");
      const typed = new TYPED_ARRAY[spec.type](count);
      new Uint8Array(typed.buffer).set(input.binary);
      tensors[input.name] = { shape: input.shape, data: typed };
    } else {
      if (!Array.isArray(input.data)) throw new BadRequest(`input "${input.name}": "data" must be a list of numbers (flat or nested)`);
      const data = (input.data as unknown[]).flat(Infinity as 1) as unknown[];
      checkValues(data, spec.type, `input "${input.name}"`);
      if (data.length !== count) throw new BadRequest(`input "${input.name}": shape ${JSON.stringify(input.shape)} needs ${count} values, got ${data.length}`);
      tensors[input.name] = { shape: input.shape, data: data as number[] };
    }
  }
  for (const o of request.outputs ?? []) {
    if (!model.outputs.some((s) => s.name === o.name)) throw new BadRequest(`unknown output "${o.name}"; the model has ${model.outputs.map((s) => s.name).join(", ")}`);
  }
  return tensors;
}

/** The datatype of an output's values: its typed array's, else model.yaml's. */
function datatypeOf(data: NumericArray, spec: TensorSpec | undefined): string {
  if (data instanceof Float32Array) return "FP32";
  if (data instanceof Float64Array) return "FP64";
  if (data instanceof Int32Array) return "INT32";
  if (data instanceof BigInt64Array) return "INT64";
  return spec ? OIP_DATATYPE[spec.type] : "FP32";
}

/** The model's outputs as an inference response: JSON, or JSON + binary tensor data for the outputs asked for that way. */
export function oipResponse(request: OipRequest, outputs: Tensors, model: ModelSignature, modelName: string, modelVersion: string): InvokeResult {
  const wanted = request.outputs ?? model.outputs.filter((s) => s.name in outputs).map((s) => ({ name: s.name, binary: undefined }));
  const parts: Uint8Array[] = [];
  const described = wanted.map(({ name, binary }) => {
    const t = outputs[name];
    if (!t) throw new Error(`the model gave no output "${name}"`);
    const spec = model.outputs.find((s) => s.name === name);
    const datatype = datatypeOf(t.data, spec);
    if (binary ?? request.binaryOutput) {
      const typed = Array.isArray(t.data) ? toTypedArray(t.data, spec?.type ?? "float32") : t.data;
      const bytes = bytesOf(typed);
      parts.push(bytes);
      return { name, datatype, shape: [...t.shape], parameters: { binary_data_size: bytes.length } };
    }
    return { name, datatype, shape: [...t.shape], data: toPlain(t.data) };
  });
  const body = { model_name: modelName, model_version: modelVersion, ...(request.id !== undefined ? { id: request.id } : {}), outputs: described };
  if (!parts.length) return { status: 200, body };
  const json = JSON.stringify(body);
  const { bytes, headerLength } = joinBody(json, parts);
  return {
    status: 200,
    body,
    encoded: { bytes, headers: { "content-type": "application/octet-stream", [HEADER_LENGTH]: String(headerLength) }, logText: `${json} (+${bytes.length - headerLength} bytes of binary tensor data)` },
  };
}

/** The codec the onnx runtime uses for one inference request. */
export function oipCodec(request: OipRequest, modelName: string, modelVersion: string): TensorCodec {
  return {
    decode: (model) => oipTensors(request, model),
    encode: (outputs, model) => oipResponse(request, outputs, model, modelName, modelVersion),
  };
}

const error = (status: number, _code: string, message: string, headers: Record<string, string> = {}): GatewayResponse => jsonResponse(status, { error: message }, headers);

const DATATYPE_CONFIG: Record<string, string> = { FP32: "TYPE_FP32", FP64: "TYPE_FP64", INT32: "TYPE_INT32", INT64: "TYPE_INT64" };

/** The endpoint's served version by number (any, the first, when absent); an error answer when there is none. */
function servedFor(endpoint: LiveEndpoint, version: string | undefined): ServedVersion | GatewayResponse {
  if (version === undefined) return endpoint.served[0] ?? error(503, "TEMPORARILY_UNAVAILABLE", `endpoint ${endpoint.config.name} serves no version`);
  const served = endpoint.served.find((s) => versionName(s) === version);
  return served ?? error(404, "RESOURCE_DOES_NOT_EXIST", `endpoint ${endpoint.config.name} does not serve version ${version} (it serves ${endpoint.served.map(versionName).join(", ")})`);
}

const tensorMeta = (s: TensorSpec) => ({ name: s.name, datatype: OIP_DATATYPE[s.type], shape: s.shape });

/** GET routes on a model (metadata, ready, config): the endpoint and the version, or the error answer. */
function modelRoute(answer: (endpoint: LiveEndpoint, served: ServedVersion, version: string | undefined) => GatewayResponse) {
  return (_request: unknown, [name, version]: Array<string | undefined>, gateway: GatewayServices): GatewayResponse => {
    const endpoint = gateway.endpoints.get(name!);
    if (!endpoint) return gateway.notServed(oip, name!);
    const served = servedFor(endpoint, version);
    if ("status" in served) return served;
    return answer(endpoint, served, version);
  };
}

const signatureOf = (served: ServedVersion): ModelSignature => (served.config.manifest.flavor === "onnx" ? served.config.manifest : { inputs: [], outputs: [] });
const platformOf = (served: ServedVersion) => (served.config.manifest.flavor === "onnx" ? "onnxruntime_onnx" : "command");

const MODEL = "^/v2/models/([^/]+)(?:/versions/([^/]+))?";

export const oip: Protocol = {
  name: "oip",
  error,
  routes: [
    {
      method: "POST",
      path: new RegExp(`${MODEL}/infer$`),
      handle: (request, [name, version], gateway) =>
        gateway.infer(request, name!, {
          protocol: oip,
          version,
          read(req, endpoint, served) {
            const encoding = req.header("content-encoding");
            if (encoding && encoding.toLowerCase() !== "identity") throw new BadRequest(`Content-Encoding ${encoding} is not supported: send the request uncompressed`);
            const { json, binary } = splitBody(req.body, req.header(HEADER_LENGTH));
            let body: unknown;
            try {
              body = JSON.parse(json);
            } catch (e) {
              throw new BadRequest(`the ${binary ? "inference header (the JSON object before the binary data)" : "body"} is not valid JSON: ${(e as Error).message}`);
            }
            const logText = binary ? `${json} (+${binary.length} bytes of binary tensor data)` : json;
            // A model that takes no tensors (command) refuses the request itself, with a request id.
            if (served.config.manifest.flavor !== "onnx") return { protocol: "oip", body, raw: req.body, clientRequestId: req.header("x-client-request-id"), logText };
            const parsed = parseOipRequest(body, binary);
            return { protocol: "oip", body, raw: req.body, codec: oipCodec(parsed, endpoint.config.name, versionName(served)), clientRequestId: req.header("x-client-request-id") ?? parsed.id, logText };
          },
        }),
    },
    {
      method: "GET",
      path: new RegExp(`${MODEL}/ready$`),
      handle: modelRoute((endpoint, served, version) => {
        const ready = version === undefined ? endpoint.served.some((s) => s.ready()) : served.ready();
        return jsonResponse(ready ? 200 : 503, { name: endpoint.config.name, ready }, ready ? {} : { "retry-after": "1" });
      }),
    },
    {
      method: "GET",
      path: new RegExp(`${MODEL}/config$`),
      handle: modelRoute((endpoint, served) => {
        const sig = signatureOf(served);
        const config = (s: TensorSpec) => ({ name: s.name, data_type: DATATYPE_CONFIG[OIP_DATATYPE[s.type]], dims: s.shape });
        // max_batch_size 0: the shapes are the model's whole shapes, batch dimension included.
        return jsonResponse(200, { name: endpoint.config.name, platform: platformOf(served), backend: served.config.manifest.flavor === "onnx" ? "onnxruntime" : "command", max_batch_size: 0, input: sig.inputs.map(config), output: sig.outputs.map(config) });
      }),
    },
    {
      method: "GET",
      path: new RegExp(`${MODEL}$`),
      handle: modelRoute((endpoint, served) => {
        const sig = signatureOf(served);
        return jsonResponse(200, { name: endpoint.config.name, versions: endpoint.served.map(versionName), platform: platformOf(served), inputs: sig.inputs.map(tensorMeta), outputs: sig.outputs.map(tensorMeta) });
      }),
    },
    { method: "GET", path: /^\/v2\/?$/, handle: () => jsonResponse(200, { name: "slipway", version: SERVER_VERSION, extensions: EXTENSIONS }) },
    { method: "GET", path: /^\/v2\/health\/live$/, handle: () => jsonResponse(200, { live: true }) },
    {
      method: "GET",
      path: /^\/v2\/health\/ready$/,
      handle(_request, _params, gateway) {
        const ready = gateway.endpoints.allReady();
        return jsonResponse(ready ? 200 : 503, { ready });
      },
    },
  ],
};
