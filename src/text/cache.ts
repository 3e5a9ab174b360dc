/**
 * A small least-recently-used map bounded by a total cost (bytes, or entry count when every cost
 * is 1). Warm serverless instances render the same watermark again and again; the bound keeps a
 * long-lived instance from growing without limit when callers vary texts, sizes and fonts.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, { value: V; cost: number }>();
  private total = 0;

  constructor(readonly maxCost: number) {}

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    // Re-insert so Map's insertion order doubles as recency order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V, cost = 1): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.total -= old.cost;
      this.entries.delete(key);
    }
    // Something larger than the whole budget is returned to the caller but never kept.
    if (cost > this.maxCost) return;
    this.entries.set(key, { value, cost });
    this.total += cost;
    for (const [oldestKey, oldest] of this.entries) {
      if (this.total <= this.maxCost) break;
      this.entries.delete(oldestKey);
      this.total -= oldest.cost;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** Sum of the costs of the entries held now. */
  get cost(): number {
    return this.total;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }
}
