// Asks the index which ids it already holds, gathering the questions of many files into one _mget.

export class IdChecker {
  private pending: Array<{ id: string; resolve: (found: boolean) => void; reject: (err: unknown) => void }> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly lookup: (ids: string[]) => Promise<Set<string>>,
    private readonly batchSize = 256,
    private readonly waitMs = 20,
  ) {}

  has(id: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.pending.push({ id, resolve, reject });
      if (this.pending.length >= this.batchSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.waitMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    this.lookup([...new Set(batch.map((b) => b.id))]).then(
      (found) => {
        for (const b of batch) b.resolve(found.has(b.id));
      },
      (err) => {
        for (const b of batch) b.reject(err);
      },
    );
  }
}
