// The vocabulary shared by config compilation, planning, providers and state.
import type { SourceLocation } from "./errors.js";

export const RESOURCE_KINDS = ["module", "hook", "setting", "artifact", "compute", "job", "model", "endpoint", "app", "schedule", "pipeline", "permission"] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/** What a resource needs at apply time but must not influence its identity or hash. */
export interface ResourceRuntime {
  /** Working folder for scripts. */
  cwd: string;
  /** Merged module environment (env files + Slipway variables). */
  env: Record<string, string>;
  /** Values to mask in any output. */
  secrets: string[];
}

/** A resource as the configuration wants it. */
export interface DesiredResource<Spec = Record<string, unknown>> {
  address: string;
  kind: ResourceKind;
  name: string;
  module: string;
  phase: number;
  /** Everything that defines the resource, typed and fully defaulted by its kind's compile step; recorded in state and compared by hash. */
  spec: Spec;
  specHash: string;
  /** Addresses this resource needs to exist first. */
  dependsOn: string[];
  location?: SourceLocation;
  /** Content-addressed files the resource needs (sha256 -> content), stored as blobs on apply. */
  assets?: Record<string, string>;
  runtime?: ResourceRuntime;
}

/** A resource as state records it after a successful create or update. */
export interface RecordedResource<Spec = Record<string, unknown>> {
  address: string;
  kind: ResourceKind;
  name: string;
  module: string;
  phase: number;
  spec: Spec;
  specHash: string;
  dependsOn: string[];
  outputs: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export function address(kind: ResourceKind, ...parts: string[]): string {
  return [kind, ...parts].join(".");
}
