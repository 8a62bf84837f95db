// Waiting on a condition instead of sleeping a fixed time: polls `predicate` (which may be async) until
// it holds, and fails with what it waited for after `timeoutMs`. The timeout is a safety net for a
// hang, never a statement about how fast something is.

export interface WaitOptions {
  /** Give up after this long (default 15 s). */
  timeoutMs?: number;
  /** Named in the error when the wait times out. */
  what?: string;
  /** How often to ask (default 20 ms). */
  intervalMs?: number;
}

export async function waitFor(predicate: () => boolean | Promise<boolean>, options: WaitOptions | number = {}, what?: string): Promise<void> {
  // (timeoutMs, what) positionally is the older form of the same call.
  const o: WaitOptions = typeof options === "number" ? { timeoutMs: options, what } : options;
  const timeoutMs = o.timeoutMs ?? 15_000;
  const started = performance.now();
  for (;;) {
    if (await predicate()) return;
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${o.what ?? "a condition"}`);
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 20));
  }
}

/** Waits for `predicate`, then returns the value `read` gives at that moment. */
export async function waitForValue<T>(read: () => T | Promise<T>, predicate: (value: T) => boolean, options: WaitOptions = {}): Promise<T> {
  let value!: T;
  await waitFor(async () => predicate((value = await read())), options);
  return value;
}
