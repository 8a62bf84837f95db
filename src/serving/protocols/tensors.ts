// Tensors as the protocols and the runtimes exchange them, and the data types a model can take.
// A model's inputs and outputs are typed in model.yaml (`float32`, `float64`, `int32`, `int64`); the
// Open Inference Protocol names the same types FP32, FP64, INT32 and INT64.
import { endianness } from "node:os";
import { BadRequest } from "./errors.js";

export type ModelType = "float32" | "float64" | "int32" | "int64";

/** A model input or output as model.yaml declares it (-1: any size). */
export interface TensorSpec {
  name: string;
  type: ModelType;
  shape: number[];
}

/** Row-major values: plain numbers from JSON, or a typed array (binary data, model outputs). */
export type NumericArray = number[] | Float32Array | Float64Array | Int32Array | BigInt64Array;

export interface Tensor {
  shape: number[];
  data: NumericArray;
}

/** Named tensors: a request's inputs or a model's outputs. */
export type Tensors = Record<string, Tensor>;

/** The Open Inference Protocol's name of each type a model can take. */
export const OIP_DATATYPE: Record<ModelType, string> = { float32: "FP32", float64: "FP64", int32: "INT32", int64: "INT64" };
/** Every datatype the Open Inference Protocol defines (to tell "unknown" from "not what the model takes"). */
export const OIP_DATATYPES = new Set(["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"]);

export const TYPED_ARRAY = { float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array } as const;
export const BYTES_PER_ELEMENT: Record<ModelType, number> = { float32: 4, float64: 8, int32: 4, int64: 8 };

/** Binary tensor data is little-endian; typed arrays use the platform's order, so both must agree. */
export const LITTLE_ENDIAN = endianness() === "LE";

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * Checks that plain numbers fit a model type: integers for int32/int64 (int64 within ±2^53, what a
 * JSON number holds exactly), any finite number for floats (integers are converted).
 */
export function checkValues(values: readonly unknown[], type: ModelType, where: string): void {
  const integer = type === "int32" || type === "int64";
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v)) throw new BadRequest(`${where}: value ${i} is ${JSON.stringify(v) ?? String(v)}, not a number`);
    if (integer && (!Number.isInteger(v) || (type === "int32" ? v < INT32_MIN || v > INT32_MAX : !Number.isSafeInteger(v)))) {
      throw new BadRequest(`${where}: value ${i} is ${v}, not an ${type === "int32" ? "INT32" : "INT64"} (the model's input type)`);
    }
  }
}

/** Values as a typed array of the model type (no copy when they already are one). */
export function toTypedArray(data: NumericArray, type: ModelType): Float32Array | Float64Array | Int32Array | BigInt64Array {
  const Array_ = TYPED_ARRAY[type];
  if (data instanceof Array_) return data;
  if (type === "int64") {
    const out = new BigInt64Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = BigInt(data[i] as number);
    return out;
  }
  if (data instanceof BigInt64Array) return (Array_ as Float64ArrayConstructor).from(data, Number);
  return (Array_ as Float64ArrayConstructor).from(data as ArrayLike<number>);
}

/** Concatenates several requests' values of one input into one typed array of the model type. */
export function concatTyped(parts: NumericArray[], type: ModelType): Float32Array | Float64Array | Int32Array | BigInt64Array {
  if (parts.length === 1) return toTypedArray(parts[0]!, type);
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new TYPED_ARRAY[type](total);
  let offset = 0;
  for (const p of parts) {
    const typed = toTypedArray(p, type);
    (out as Float64Array).set(typed as Float64Array, offset);
    offset += p.length;
  }
  return out;
}

/** A number from a tensor element (int64 elements are bigints). */
export const numberAt = (data: NumericArray, i: number): number => Number(data[i]);

/** The element count a shape needs. */
export const elementCount = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);

/**
 * A nested JSON list of numbers (any depth, rectangular) -> its shape and row-major values. A scalar
 * has shape []. Refuses ragged lists and non-numbers, naming where.
 */
export function fromNested(value: unknown, where: string): { shape: number[]; data: number[] } {
  const shape: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0];
  }
  const data: number[] = [];
  // Where is named only when something is wrong (building paths for every value would cost more than the walk).
  const walk = (v: unknown, depth: number, at: () => string): void => {
    if (depth === shape.length) {
      if (typeof v !== "number" || !Number.isFinite(v)) throw new BadRequest(`${at()} is ${JSON.stringify(v) ?? String(v)}, not a number`);
      data.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) throw new BadRequest(`${at()} must be a list of ${shape[depth]} ${depth + 1 === shape.length ? "numbers" : "lists"}, like the first one (the lists must be rectangular)`);
    if (depth === shape.length - 1) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (typeof x !== "number" || !Number.isFinite(x)) throw new BadRequest(`${at()}[${i}] is ${JSON.stringify(x) ?? String(x)}, not a number`);
        data.push(x);
      }
      return;
    }
    for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, () => `${at()}[${i}]`);
  };
  walk(value, 0, () => where);
  return { shape, data };
}

/** Row-major values of a shape -> nested lists (numbers; int64 as numbers). */
export function toNested(data: NumericArray, shape: readonly number[]): unknown {
  if (shape.length === 0) return numberAt(data, 0);
  let offset = 0;
  const build = (depth: number): unknown[] => {
    const n = shape[depth]!;
    const out = new Array<unknown>(n);
    if (depth === shape.length - 1) {
      for (let i = 0; i < n; i++) out[i] = numberAt(data, offset++);
    } else for (let i = 0; i < n; i++) out[i] = build(depth + 1);
    return out;
  };
  return build(0);
}

/** Typed values as plain numbers (JSON). */
export function toPlain(data: NumericArray): number[] {
  if (Array.isArray(data)) return data;
  const out = new Array<number>(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return out;
}
