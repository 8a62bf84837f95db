// Request and response formats: the MLflow scoring protocol (dataframe_split, dataframe_records,
// instances, inputs) and the Open Inference Protocol (v2). Parsing never throws anything but
// BadRequest, whose message says what is wrong.

export class BadRequest extends Error {}

/** A batch of named tensors, flattened row-major. */
export interface TensorBatch {
  /** Input name -> values and shape. A single unnamed input uses the model's first input name. */
  tensors: Record<string, { data: number[]; shape: number[] }>;
}

/** MLflow scoring request -> rows of numbers (for single-input models) or named tensors. */
export function parseMlflowRequest(body: unknown, inputNames: string[]): TensorBatch {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new BadRequest('the body must be a JSON object with one of "dataframe_split", "dataframe_records", "instances" or "inputs"');
  const b = body as Record<string, unknown>;
  const keys = ["dataframe_split", "dataframe_records", "instances", "inputs"].filter((k) => k in b);
  if (keys.length !== 1) {
    throw new BadRequest(keys.length ? `give exactly one of dataframe_split, dataframe_records, instances, inputs (got ${keys.join(", ")})` : 'the body has none of "dataframe_split", "dataframe_records", "instances", "inputs"');
  }
  const first = inputNames[0] ?? "input";
  switch (keys[0]) {
    case "dataframe_split": {
      const split = b.dataframe_split as { columns?: unknown; data?: unknown };
      if (!split || typeof split !== "object" || !Array.isArray(split.data)) throw new BadRequest('"dataframe_split" needs "data": a list of rows (and optionally "columns")');
      return { tensors: { [first]: rows(split.data, "dataframe_split.data") } };
    }
    case "dataframe_records": {
      const records = b.dataframe_records;
      if (!Array.isArray(records) || records.length === 0) throw new BadRequest('"dataframe_records" must be a non-empty list of objects');
      const columns = Object.keys(records[0] as object);
      const data = records.map((r, i) => {
        if (!r || typeof r !== "object" || Array.isArray(r)) throw new BadRequest(`dataframe_records[${i}] is not an object`);
        return columns.map((c) => (r as Record<string, unknown>)[c]);
      });
      return { tensors: { [first]: rows(data, "dataframe_records") } };
    }
    case "instances":
      return { tensors: { [first]: rows(b.instances, "instances") } };
    default: {
      const inputs = b.inputs;
      if (Array.isArray(inputs)) return { tensors: { [first]: rows(inputs, "inputs") } };
      if (inputs && typeof inputs === "object") {
        const tensors: TensorBatch["tensors"] = {};
        for (const [name, value] of Object.entries(inputs)) tensors[name] = rows(value, `inputs.${name}`);
        return { tensors };
      }
      throw new BadRequest('"inputs" must be a list of rows or an object of named inputs');
    }
  }
}

/** Open Inference Protocol request: { inputs: [{ name, shape, datatype, data }] }. */
export function parseOipRequest(body: unknown): TensorBatch & { id?: string } {
  const b = body as { id?: unknown; inputs?: unknown } | null;
  if (!b || typeof b !== "object" || !Array.isArray(b.inputs) || b.inputs.length === 0) throw new BadRequest('an inference request needs "inputs": a non-empty list of { name, shape, datatype, data }');
  const tensors: TensorBatch["tensors"] = {};
  b.inputs.forEach((input, i) => {
    const t = input as { name?: unknown; shape?: unknown; data?: unknown; datatype?: unknown };
    if (typeof t?.name !== "string") throw new BadRequest(`inputs[${i}].name must be a string`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new BadRequest(`inputs[${i}].shape must be a list of non-negative integers`);
    if (!Array.isArray(t.data)) throw new BadRequest(`inputs[${i}].data must be a list of numbers`);
    const data = (t.data as unknown[]).flat(Infinity as 1) as unknown[];
    if (!data.every((v) => typeof v === "number" && Number.isFinite(v))) throw new BadRequest(`inputs[${i}].data must hold only numbers`);
    const expected = (t.shape as number[]).reduce((a, d) => a * d, 1);
    if (expected !== data.length) throw new BadRequest(`inputs[${i}]: shape ${JSON.stringify(t.shape)} needs ${expected} values, got ${data.length}`);
    tensors[t.name] = { data: data as number[], shape: t.shape as number[] };
  });
  return { tensors, id: typeof b.id === "string" ? b.id : undefined };
}

/** A list of equal-length rows of numbers -> a [rows, columns] tensor. */
function rows(value: unknown, where: string): { data: number[]; shape: number[] } {
  if (!Array.isArray(value) || value.length === 0) throw new BadRequest(`${where} must be a non-empty list of rows`);
  const width = Array.isArray(value[0]) ? (value[0] as unknown[]).length : -1;
  if (width <= 0) throw new BadRequest(`${where}[0] must be a non-empty list of numbers`);
  const data: number[] = new Array(value.length * width);
  value.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== width) throw new BadRequest(`${where}[${i}] must be a list of ${width} numbers, like the first row`);
    row.forEach((v, j) => {
      if (typeof v !== "number" || !Number.isFinite(v)) throw new BadRequest(`${where}[${i}][${j}] is ${JSON.stringify(v)}, not a number`);
      data[i * width + j] = v;
    });
  });
  return { data, shape: [value.length, width] };
}

/** Model outputs (named tensors) -> { predictions } with one entry per row. */
export function mlflowResponse(outputs: Record<string, { data: ArrayLike<number>; shape: readonly number[] }>): { predictions: unknown } {
  const names = Object.keys(outputs);
  const toRows = (t: { data: ArrayLike<number>; shape: readonly number[] }) => {
    const width = t.shape.length > 1 ? t.shape.slice(1).reduce((a, d) => a * d, 1) : 1;
    const out: number[][] | number[] = [];
    for (let i = 0; i < t.data.length; i += width) (out as unknown[]).push(width === 1 && t.shape.length === 1 ? t.data[i] : Array.from({ length: width }, (_, j) => t.data[i + j]));
    return out;
  };
  if (names.length === 1) return { predictions: toRows(outputs[names[0]!]!) };
  const perName = Object.fromEntries(names.map((n) => [n, toRows(outputs[n]!)]));
  const count = (perName[names[0]!] as unknown[]).length;
  return { predictions: Array.from({ length: count }, (_, i) => Object.fromEntries(names.map((n) => [n, (perName[n] as unknown[])[i]]))) };
}

export function oipResponse(model: string, version: string, outputs: Record<string, { data: ArrayLike<number>; shape: readonly number[] }>, id?: string) {
  return {
    model_name: model,
    model_version: version,
    ...(id ? { id } : {}),
    outputs: Object.entries(outputs).map(([name, t]) => ({ name, shape: [...t.shape], datatype: "FP32", data: Array.from(t.data) })),
  };
}
