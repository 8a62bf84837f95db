// The protocols the gateway speaks, one file each (see protocol.ts for the contract): the gateway
// tries their routes in this order. A new protocol or route is a new file and a line here.
import { mlflow } from "./mlflow.js";
import { oip } from "./oip.js";
import type { Protocol } from "./protocol.js";

export const PROTOCOLS: readonly Protocol[] = [mlflow, oip];

export { BadRequest, ProtocolError, UnsupportedMediaType } from "./errors.js";
export { mlflow, mlflowCodec, mlflowResponse, parseCsv, parseMlflowRequest, type ResponseFormat } from "./mlflow.js";
export { oip, oipCodec, oipResponse, parseOipRequest } from "./oip.js";
export type { GatewayServices, InferCall, Protocol, ReadRequest, Route } from "./protocol.js";
export { concatTyped, type Tensor, type Tensors, type TensorSpec } from "./tensors.js";
export { SERVER_VERSION } from "./version.js";
