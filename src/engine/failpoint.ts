// Crash-test failpoints: SLIPWAY_FAILPOINT="apply.after-action=3" kills this process with SIGKILL
// the third time that point is reached. Used by the kill -9 tests; inert unless the variable is set.

const counts = new Map<string, number>();

export class Failpoints {
  private readonly name?: string;
  private readonly at: number;

  constructor(spec?: string) {
    if (!spec) {
      this.at = 0;
      return;
    }
    const [name, n] = spec.split("=");
    this.name = name;
    this.at = Number(n ?? 1) || 1;
  }

  hit(point: string): void {
    if (point !== this.name) return;
    const count = (counts.get(point) ?? 0) + 1;
    counts.set(point, count);
    if (count === this.at) process.kill(process.pid, "SIGKILL");
  }
}
