// Plain SVG charts for `mnkvm report`: no script, no library, so a report
// renders the same in any browser and can be kept next to its JSON files.

export interface Series { label: string; points: [number, number][] }
export interface Bars { group: string; values: { label: string; value: number; low?: number; high?: number }[] }

const W = 640, H = 360, M = { left: 70, right: 20, top: 30, bottom: 60 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round tick values: 1, 2, 5 times a power of ten. */
function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const step = [1, 2, 5, 10].map((m) => m * 10 ** Math.floor(Math.log10(raw))).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step / 1e6; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  return Math.abs(v) >= 1e6 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(0) : String(Number(v.toPrecision(3)));
}

/** Where each legend item goes: left to right from the plot's left edge, on another row where a label would cross the right edge. */
function legendPlaces(legend: string[]): { x: number; row: number }[] {
  // (a label's width guessed from its length: 7 px a character at 12 px, plus the swatch and a gap)
  const width = (label: string) => Math.max(150, 16 + 7 * label.length + 14);
  let x = M.left + 10, row = 0;
  return legend.map((label) => {
    if (x > M.left + 10 && x + width(label) > W) [x, row] = [M.left + 10, row + 1];
    const place = { x, row };
    x += width(label);
    return place;
  });
}

const LEGEND_ROW = 16;

function frame(id: string, title: string, body: string, legend: string[]): string {
  const places = legendPlaces(legend);
  const height = H + LEGEND_ROW * Math.max(0, ...places.map((p) => p.row));
  const items = legend.map((label, i) =>
    `<g transform="translate(${places[i].x},${H - 14 + LEGEND_ROW * places[i].row})"><rect width="12" height="12" y="-10" fill="${COLOURS[i % COLOURS.length]}"/>` +
    `<text x="16" font-size="12">${esc(label)}</text></g>`).join('');
  return `<svg class="plot" id="${esc(id)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" ` +
    `font-family="sans-serif" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title>` +
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">${esc(title)}</text>${body}${items}</svg>`;
}

/** A line chart; logX for latency CDFs, whose tails span decades. */
export function lineChart(id: string, title: string, series: Series[], axes: { x: string; y: string; logX?: boolean }): string {
  const all = series.flatMap((s) => s.points).filter(([x]) => !axes.logX || x > 0);
  if (all.length === 0) return frame(id, `${title} (no data)`, '', []);
  const fx = axes.logX ? Math.log10 : (v: number) => v;
  const [x0, x1] = [Math.min(...all.map(([x]) => fx(x))), Math.max(...all.map(([x]) => fx(x)))];
  const [y0, y1] = [Math.min(0, ...all.map(([, y]) => y)), Math.max(...all.map(([, y]) => y))];
  const sx = (v: number) => M.left + ((fx(v) - x0) / (x1 - x0 || 1)) * (W - M.left - M.right);
  const sy = (v: number) => H - M.bottom - ((v - y0) / (y1 - y0 || 1)) * (H - M.top - M.bottom);
  const xTicks = axes.logX
    ? Array.from({ length: Math.floor(x1) - Math.ceil(x0) + 1 }, (_, i) => 10 ** (Math.ceil(x0) + i))
    : ticks(x0, x1);
  let body = `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#000"/>` +
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="#000"/>`;
  for (const t of xTicks) {
    body += `<line x1="${sx(t)}" y1="${H - M.bottom}" x2="${sx(t)}" y2="${H - M.bottom + 5}" stroke="#000"/>` +
      `<text x="${sx(t)}" y="${H - M.bottom + 18}" text-anchor="middle" font-size="11">${fmt(t)}</text>`;
  }
  for (const t of ticks(y0, y1)) {
    body += `<line x1="${M.left - 5}" y1="${sy(t)}" x2="${W - M.right}" y2="${sy(t)}" stroke="#ddd"/>` +
      `<text x="${M.left - 8}" y="${sy(t) + 4}" text-anchor="end" font-size="11">${fmt(t)}</text>`;
  }
  body += `<text x="${(M.left + W - M.right) / 2}" y="${H - M.bottom + 34}" text-anchor="middle" font-size="12">${esc(axes.x)}</text>` +
    `<text transform="translate(16,${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(axes.y)}</text>`;
  series.forEach((s, i) => {
    const pts = s.points.filter(([x]) => !axes.logX || x > 0).map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
    if (pts.length) body += `<polyline class="series" fill="none" stroke-width="2" stroke="${COLOURS[i % COLOURS.length]}" points="${pts.join(' ')}"/>`;
  });
  return frame(id, title, body, series.map((s) => s.label));
}

/** Grouped bars, with an optional low-high whisker (the spread over repetitions). */
export function barChart(id: string, title: string, groups: Bars[], yLabel: string, logY = false): string {
  const labels = [...new Set(groups.flatMap((g) => g.values.map((v) => v.label)))];
  const values = groups.flatMap((g) => g.values.flatMap((v) => [v.value, v.high ?? v.value])).filter((v) => !logY || v > 0);
  if (values.length === 0) return frame(id, `${title} (no data)`, '', []);
  const fy = logY ? Math.log10 : (v: number) => v;
  const y1 = fy(Math.max(...values)), y0 = logY ? Math.floor(fy(Math.min(...values))) : 0;
  const sy = (v: number) => H - M.bottom - ((fy(Math.max(v, logY ? 10 ** y0 : 0)) - y0) / (y1 - y0 || 1)) * (H - M.top - M.bottom);
  const groupW = (W - M.left - M.right) / groups.length, barW = (groupW * 0.8) / labels.length;
  let body = `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#000"/>`;
  const yTicks = logY ? Array.from({ length: Math.floor(y1) - y0 + 1 }, (_, i) => 10 ** (y0 + i)) : ticks(0, y1);
  for (const t of yTicks) {
    body += `<line x1="${M.left - 5}" y1="${sy(t)}" x2="${W - M.right}" y2="${sy(t)}" stroke="#ddd"/>` +
      `<text x="${M.left - 8}" y="${sy(t) + 4}" text-anchor="end" font-size="11">${fmt(t)}</text>`;
  }
  body += `<text transform="translate(16,${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(yLabel)}</text>`;
  groups.forEach((g, gi) => {
    const gx = M.left + gi * groupW + groupW * 0.1;
    body += `<text x="${gx + groupW * 0.4}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="11">${esc(g.group)}</text>`;
    for (const v of g.values) {
      const x = gx + labels.indexOf(v.label) * barW, top = sy(v.value);
      body += `<rect class="bar" x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barW * 0.9).toFixed(1)}" height="${(H - M.bottom - top).toFixed(1)}" ` +
        `fill="${COLOURS[labels.indexOf(v.label) % COLOURS.length]}"><title>${esc(`${v.label} ${g.group}: ${fmt(v.value)}`)}</title></rect>`;
      if (v.low !== undefined && v.high !== undefined) {
        const cx = (x + barW * 0.45).toFixed(1);
        body += `<line x1="${cx}" y1="${sy(v.low).toFixed(1)}" x2="${cx}" y2="${sy(v.high).toFixed(1)}" stroke="#000"/>`;
      }
    }
  });
  return frame(id, title, body, labels);
}
