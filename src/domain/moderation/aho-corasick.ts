/**
 * Aho-Corasick over UTF-16 units: every pattern found in one pass over the text, whatever the
 * number of patterns (a list of 5,000 costs about what a list of 5 does). Small and with no
 * dependency: the packages on npm either match on bytes, which would split Hangul jamo, or have
 * not been kept up.
 */
export interface Hit<T> {
  /** Units `[start, end)` of the text. */
  start: number;
  end: number;
  value: T;
}

interface Node<T> {
  next: Map<number, number>;
  fail: number;
  /** Patterns ending here, with their lengths (including those reached by failure links). */
  out: { length: number; value: T }[];
}

export class AhoCorasick<T> {
  private readonly nodes: Node<T>[] = [{ next: new Map(), fail: 0, out: [] }];

  constructor(patterns: Iterable<[string, T]>) {
    for (const [pattern, value] of patterns) if (pattern.length > 0) this.add(pattern, value);
    this.link();
  }

  get size(): number {
    return this.nodes.length;
  }

  private add(pattern: string, value: T): void {
    let n = 0;
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern.charCodeAt(i);
      let to = this.nodes[n]!.next.get(c);
      if (to === undefined) {
        to = this.nodes.length;
        this.nodes.push({ next: new Map(), fail: 0, out: [] });
        this.nodes[n]!.next.set(c, to);
      }
      n = to;
    }
    this.nodes[n]!.out.push({ length: pattern.length, value });
  }

  /** Failure links breadth first, each node's output merged with its failure's. */
  private link(): void {
    const queue: number[] = [];
    for (const to of this.nodes[0]!.next.values()) queue.push(to);
    for (let q = 0; q < queue.length; q++) {
      const n = queue[q]!;
      const node = this.nodes[n]!;
      for (const [c, to] of node.next) {
        let f = node.fail;
        while (f !== 0 && !this.nodes[f]!.next.has(c)) f = this.nodes[f]!.fail;
        const target = this.nodes[f]!.next.get(c);
        const child = this.nodes[to]!;
        child.fail = target !== undefined && target !== to ? target : 0;
        child.out.push(...this.nodes[child.fail]!.out);
        queue.push(to);
      }
    }
  }

  /** Every occurrence of every pattern. */
  search(text: string): Hit<T>[] {
    const hits: Hit<T>[] = [];
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      let to = this.nodes[n]!.next.get(c);
      while (to === undefined && n !== 0) {
        n = this.nodes[n]!.fail;
        to = this.nodes[n]!.next.get(c);
      }
      n = to ?? 0;
      for (const o of this.nodes[n]!.out) hits.push({ start: i + 1 - o.length, end: i + 1, value: o.value });
    }
    return hits;
  }
}
