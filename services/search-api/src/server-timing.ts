// Server-Timing header (https://w3c.github.io/server-timing/): where a request spent its time, visible in browser
// dev tools and to `curl -i`.
export class ServerTiming {
  private readonly parts: string[] = [];

  add(name: string, ms: number, desc?: string): this {
    this.parts.push(`${name};dur=${ms.toFixed(2)}${desc ? `;desc="${desc}"` : ''}`);
    return this;
  }

  flag(name: string, desc: string): this {
    this.parts.push(`${name};desc=${desc}`);
    return this;
  }

  toString(): string {
    return this.parts.join(', ');
  }
}

/** Runs `fn`, returning its value and how long it took in ms. */
export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await fn();
  return [value, performance.now() - t0];
}
