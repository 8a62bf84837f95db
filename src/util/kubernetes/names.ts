// Kubernetes names for Slipway resources. Object names are DNS-1123 labels (lowercase letters, digits
// and "-", at most 63 characters; a CronJob's at most 52, as its Jobs add a suffix). A Slipway name
// that is not one already (underscores, capitals, length) is folded into one with a short hash of the
// original, so two names that fold alike still differ and the same project always gives the same name.
import { createHash } from "node:crypto";

const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** A DNS-1123 label for `raw`, at most `max` characters; `raw` itself when it already is one. */
export function dnsLabel(raw: string, max = 63): string {
  if (raw.length <= max && LABEL.test(raw)) return raw;
  const hash = createHash("sha256").update(raw).digest("hex").slice(0, 8);
  const folded = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, max - hash.length - 1)
    .replace(/-+$/g, "");
  return folded ? `${folded}-${hash}` : `x-${hash}`;
}

/** The name of an object made for one Slipway resource of `project`. */
export function objectName(project: string, name: string, max = 63): string {
  return dnsLabel(`${project}-${name}`, max);
}

/** ConfigMap and Secret keys: letters, digits, "-", "_" and "."; at most 253 characters. */
export const DATA_KEY = /^[-._a-zA-Z0-9]{1,253}$/;

/** Environment variable names a container accepts through `env` (C identifiers are always safe). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
