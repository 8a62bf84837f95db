// Errors a protocol raises while reading a request. The gateway answers each in the protocol's own
// error body (MLflow: {"error_code", "message"}; Open Inference Protocol: {"error"}).

/** A request the protocol cannot answer: an HTTP status, an MLflow-style code and a message. */
export class ProtocolError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** 400: the body is malformed or the model cannot take it. The message says what is wrong. */
export class BadRequest extends ProtocolError {
  constructor(message: string) {
    super(400, "BAD_REQUEST", message);
  }
}

/** 415: a content type the route does not read. */
export class UnsupportedMediaType extends ProtocolError {
  constructor(message: string) {
    super(415, "UNSUPPORTED_MEDIA_TYPE", message);
  }
}
