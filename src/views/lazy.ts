// Schemas of the JSON documents are built on first use: the CLI prints documents on every run but
// needs their schemas only for `slipway schema --output` (and the tests), so start-up never pays for them.
export function lazy<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}
