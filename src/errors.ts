// Typed errors with a stable code and a hint. Every code is registered once in error-codes.ts with its
// exit code and HTTP status: an unregistered code fails typecheck, and the exit code of an error is the
// registry's, never the thrower's choice.
import { exitCodeOf, type CodeWithExit, type ErrorCode, type ExitCode, type ExitOf } from "./error-codes.js";

export { ERROR_CODES, exitCodeOf, httpStatusOf, type CodeWithExit, type ErrorCode, type ExitCode } from "./error-codes.js";

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** One problem found in user input (config, flags). All of them are reported together. */
export interface Diagnostic {
  location?: SourceLocation;
  message: string;
  hint?: string;
}

export interface SlipwayErrorOptions<C extends ErrorCode> {
  hint?: string;
  /** Redundant (the registry decides); accepted only when it agrees with the registry. */
  exitCode?: ExitOf<C>;
  /** Extra fields printed next to code, message and hint in the --json error. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class SlipwayError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;

  constructor(code: C, message: string, options: SlipwayErrorOptions<C> = {}) {
    super(message, { cause: options.cause });
    this.name = "SlipwayError";
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  /** From the registry (error-codes.ts). */
  get exitCode(): Exclude<ExitCode, 0> {
    return exitCodeOf(this.code);
  }
}

/** Invalid input: config, flags, references. Exit code 2; nothing was touched. */
export class InvalidInputError extends SlipwayError<CodeWithExit<2>> {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[], code: CodeWithExit<2> = "invalid_config") {
    const first = diagnostics[0];
    super(code, diagnostics.length === 1 && first ? first.message : `${diagnostics.length} problems found`, { hint: first?.hint });
    this.diagnostics = diagnostics;
  }
}

/** The operation was refused: a lock is held, protection, missing confirmation or approval. Exit code 3. */
export class RefusedError extends SlipwayError<CodeWithExit<3>> {
  constructor(code: CodeWithExit<3>, message: string, options: { hint?: string; details?: Record<string, unknown> } = {}) {
    super(code, message, options);
  }
}

export function formatLocation(loc: SourceLocation | undefined): string {
  return loc ? `${loc.file}:${loc.line}:${loc.column}` : "";
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.location ? `${formatLocation(d.location)}: ` : "";
  return `${where}error: ${d.message}${d.hint ? `\n  hint: ${d.hint}` : ""}`;
}
