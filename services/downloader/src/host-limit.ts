// At most N downloads at once per host, so one slow host cannot take every slot. Callers wait here *before* taking
// a global slot, so a queue behind a slow host holds no global slot.

interface HostSlots {
  active: number;
  waiting: Array<() => void>;
}

export class HostLimit {
  private readonly hosts = new Map<string, HostSlots>();

  constructor(private readonly perHost: number) {}

  async run<T>(host: string, task: () => Promise<T>): Promise<T> {
    let slots = this.hosts.get(host);
    if (!slots) {
      slots = { active: 0, waiting: [] };
      this.hosts.set(host, slots);
    }
    if (slots.active >= this.perHost) await new Promise<void>((resolve) => slots.waiting.push(resolve));
    else slots.active++;
    try {
      return await task();
    } finally {
      const next = slots.waiting.shift();
      if (next) next();
      else if (--slots.active === 0) this.hosts.delete(host);
    }
  }

  /** Downloads running now for `host` (for tests and logs). */
  active(host: string): number {
    return this.hosts.get(host)?.active ?? 0;
  }
}
