/**
 * Named one-shot timers for an engine that speaks in `set-timer name ms` / `cancel-timer name` actions: a later set
 * of the same name replaces the running one (the engines' contract). Timers are unref'd so a forgotten session
 * never keeps a test process alive.
 */
export class NamedTimers<N extends string> {
  private readonly running = new Map<N, NodeJS.Timeout>();

  constructor(private readonly fire: (name: N) => void) {}

  set(name: N, ms: number): void {
    this.clear(name);
    const handle = setTimeout(() => {
      this.running.delete(name);
      this.fire(name);
    }, ms);
    handle.unref();
    this.running.set(name, handle);
  }

  clear(name: N): void {
    const handle = this.running.get(name);
    if (handle !== undefined) {
      clearTimeout(handle);
      this.running.delete(name);
    }
  }

  clearAll(): void {
    for (const handle of this.running.values()) clearTimeout(handle);
    this.running.clear();
  }

  get size(): number {
    return this.running.size;
  }
}
