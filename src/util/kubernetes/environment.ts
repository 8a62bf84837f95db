// What a container of a module sees (an exported Job or Deployment; a run on the Kubernetes executor):
// the module's environment (env files, SLIPWAY_PROJECT/TARGET/MODULE, SLIPWAY_VAR_<name>) split in two. Plain values go into the module's ConfigMap; a value that
// holds a secret (a secret variable, a secret-looking env-file entry) becomes a key of the project's
// Kubernetes Secret, which the export only *names*: its values are never written (the person deploying
// creates the Secret, docs/scale-out.md). A job's own env and params that hold a secret refer to the
// secret's variable with Kubernetes' $(NAME) expansion instead of carrying the value.
import type { V1EnvVar } from "@kubernetes/client-node";
import { SlipwayError } from "../../errors.js";
import { DATA_KEY } from "./names.js";

export interface ModuleEnvironment {
  /** Plain variables, by name (sorted). */
  plain: Record<string, string>;
  /** Names of the variables that hold a secret: keys of the project's Secret (sorted). */
  secretKeys: string[];
  /** Secret value -> the name of a variable that holds exactly it (for $(NAME) references). */
  holders: Map<string, string>;
}

const holds = (value: string, secrets: readonly string[]) => secrets.some((s) => s.length > 0 && value.includes(s));

/** Splits a module's environment into plain values and secret keys. */
export function splitEnvironment(env: Record<string, string>, secrets: readonly string[], where: string): ModuleEnvironment {
  const plain: Array<[string, string]> = [];
  const secretKeys: string[] = [];
  const holders = new Map<string, string>();
  for (const name of Object.keys(env).sort()) {
    const value = env[name]!;
    if (!DATA_KEY.test(name)) {
      throw new SlipwayError("export_unsupported", `${where}: the environment variable ${JSON.stringify(name)} cannot be a ConfigMap or Secret key`, { hint: "keys are letters, digits, '-', '_' and '.'; rename the variable in its env file" });
    }
    if (holds(value, secrets)) {
      secretKeys.push(name);
      if (secrets.includes(value) && !holders.has(value)) holders.set(value, name);
    } else plain.push([name, value]);
  }
  return { plain: Object.fromEntries(plain), secretKeys, holders };
}

/**
 * `value` as Kubernetes writes it into a container (env values, command and args are expanded):
 * every "$" doubled so the text stays as written, and every secret replaced by `reference(holder)`.
 * A secret no variable holds cannot be referred to: refused (it would be written out).
 */
export function withReferences(value: string, holders: Map<string, string>, reference: (name: string) => string, escape: (literal: string) => string, where: string): string {
  const secrets = [...holders.keys()].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  let out = "";
  let literal = "";
  for (let i = 0; i < value.length; ) {
    const secret = secrets.find((s) => value.startsWith(s, i));
    if (secret) {
      out += escape(literal) + reference(holders.get(secret)!);
      literal = "";
      i += secret.length;
    } else literal += value[i++];
  }
  return out + escape(literal);
}

/** Kubernetes' own expansion: "$$" is a literal "$". */
export const k8sLiteral = (s: string) => s.replaceAll("$", () => "$$"); // a function: "$$" in a replacement string is one "$"

/** Refuses a value that still holds a secret (one no variable holds exactly). */
export function assertNoSecret(value: string, secrets: readonly string[], where: string): void {
  if (holds(value, secrets)) {
    throw new SlipwayError("secret_in_command", `${where} holds a secret value that no environment variable holds on its own, so the export cannot refer to it`, {
      hint: "put the secret in a variable (variables: { NAME: { secret: true } }) and use ${var.NAME} as the whole value of an env entry",
    });
  }
}

/** Each key of the Secret `secretName` as the container's variable of the same name (the value stays in the cluster). */
export function secretEnv(keys: string[], secretName: string, optional?: boolean): V1EnvVar[] {
  return keys.map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: secretName, key, ...(optional ? { optional } : {}) } } }));
}
