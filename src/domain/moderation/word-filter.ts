/**
 * The programme word filter (spec section 9): one automaton over every entry, global or of one
 * programme, matched against the normalised text (`normalise.ts`). `block` refuses the text;
 * `mask` replaces each match, as written (with whatever was slipped inside it), by `*` of the
 * same length.
 */
import { AhoCorasick } from './aho-corasick.js';
import { normalise } from './normalise.js';

export type FilterAction = 'block' | 'mask';

export interface FilterEntry {
  text: string;
  action: FilterAction;
  /** Only this programme; everywhere when absent. */
  scheduleUID?: string;
}

export type FilterVerdict = { blocked: true } | { blocked: false; text: string; masked: boolean };

interface Rule {
  action: FilterAction;
  scope: string | undefined;
}

export class WordFilter {
  private readonly automaton: AhoCorasick<Rule>;

  constructor(readonly entries: readonly FilterEntry[]) {
    this.automaton = new AhoCorasick(
      entries.map((e) => [normalise(e.text).text, { action: e.action, scope: e.scheduleUID }] as [string, Rule]),
    );
  }

  static readonly empty = new WordFilter([]);

  /** What becomes of `text` in programme `p`. */
  apply(p: string, text: string): FilterVerdict {
    if (this.entries.length === 0) return { blocked: false, text, masked: false };
    const n = normalise(text);
    const hits = this.automaton.search(n.text);
    const spans: [number, number][] = [];
    for (const h of hits) {
      if (h.value.scope !== undefined && h.value.scope !== p) continue;
      if (h.value.action === 'block') return { blocked: true };
      const start = n.from[h.start]!;
      const last = n.from[h.end - 1]!;
      // The whole last character: a surrogate pair is two units.
      const cp = text.codePointAt(last)!;
      spans.push([start, last + (cp > 0xffff ? 2 : 1)]);
    }
    if (spans.length === 0) return { blocked: false, text, masked: false };
    const hidden = new Uint8Array(text.length);
    for (const [s, e] of spans) hidden.fill(1, s, e);
    let out = '';
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i)!;
      const w = cp > 0xffff ? 2 : 1;
      out += hidden[i] ? '*' : text.slice(i, i + w);
      i += w;
    }
    return { blocked: false, text: out, masked: true };
  }
}
