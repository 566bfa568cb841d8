/**
 * A small hand-written SVG line chart: latency (p50 solid, p99 dashed) against offered load,
 * both axes logarithmic, one colour per system. No charting dependency for one picture.
 */
export interface Series {
  name: string;
  colour: string;
  points: { x: number; p50: number; p99: number }[];
}

const W = 760;
const H = 440;
const M = { left: 64, right: 190, top: 36, bottom: 52 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function latencyChart(title: string, series: Series[]): string {
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.flatMap((p) => [p.p50, p.p99])).filter((v) => v > 0);
  if (!xs.length) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="60"><text x="10" y="30">no data</text></svg>\n`;
  const lx0 = Math.floor(Math.log10(Math.min(...xs)));
  const lx1 = Math.ceil(Math.log10(Math.max(...xs)));
  const ly0 = Math.floor(Math.log10(Math.min(...ys)));
  const ly1 = Math.ceil(Math.log10(Math.max(...ys)));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const X = (v: number) => M.left + ((Math.log10(v) - lx0) / Math.max(1, lx1 - lx0)) * pw;
  const Y = (v: number) => M.top + ph - ((Math.log10(Math.max(v, 10 ** ly0)) - ly0) / Math.max(1, ly1 - ly0)) * ph;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  // Grid and tick labels at 1, 2, 5 x 10^k.
  for (let k = lx0; k <= lx1; k++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** k;
      if (v < 10 ** lx0 || v > 10 ** lx1) continue;
      const x = X(v).toFixed(1);
      out.push(`<line x1="${x}" x2="${x}" y1="${M.top}" y2="${M.top + ph}" stroke="#e4e4e4"/>`);
      out.push(`<text x="${x}" y="${M.top + ph + 16}" text-anchor="middle" fill="#555">${v}</text>`);
    }
  }
  for (let k = ly0; k <= ly1; k++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** k;
      if (v < 10 ** ly0 || v > 10 ** ly1) continue;
      const y = Y(v).toFixed(1);
      out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y}" y2="${y}" stroke="#e4e4e4"/>`);
      out.push(`<text x="${M.left - 6}" y="${Number(y) + 4}" text-anchor="end" fill="#555">${v >= 1 ? v : v.toFixed(Math.max(0, -k))}</text>`);
    }
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle">offered load, chat messages/s into a room of 120 (log)</text>`);
  out.push(`<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">end-to-end latency, ms (log)</text>`);
  series.forEach((s, i) => {
    for (const [key, dash] of [['p50', ''], ['p99', ' stroke-dasharray="6 4"']] as const) {
      const pts = s.points.map((p) => `${X(p.x).toFixed(1)},${Y(p[key]).toFixed(1)}`).join(' ');
      out.push(`<polyline points="${pts}" fill="none" stroke="${s.colour}" stroke-width="2"${dash}/>`);
      for (const p of s.points) out.push(`<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p[key]).toFixed(1)}" r="2.5" fill="${s.colour}"/>`);
    }
    const ly = M.top + 10 + i * 20;
    const lx = M.left + pw + 14;
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${s.colour}" stroke-width="2"/>`);
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  const ly = M.top + 10 + series.length * 20 + 10;
  const lx = M.left + pw + 14;
  out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="#333" stroke-width="2"/><text x="${lx + 30}" y="${ly + 4}">p50</text>`);
  out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly + 20}" y2="${ly + 20}" stroke="#333" stroke-width="2" stroke-dasharray="6 4"/><text x="${lx + 30}" y="${ly + 24}">p99</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
