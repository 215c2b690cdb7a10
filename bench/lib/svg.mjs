// Small SVG writers (no dependencies): bar-chart panels, a heat map and a flame graph.

const esc = (s) =>
  String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const PALETTE = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#7f7f7f'];
const FONT = 'font-family="system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif"';

export function fmt(v) {
  if (!Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  if (a >= 1e6) return (v / 1e6).toFixed(a >= 1e7 ? 1 : 2) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(a >= 1e5 ? 0 : 1) + 'k';
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/**
 * Horizontal bar panels, one per group (workload), each with its own scale since workloads differ
 * by orders of magnitude. groups: [{ title, bars: [{ label, value, lo, hi }] }]; lo/hi draw the
 * min-max whisker of the repeats. colorOf(label) picks a stable colour per server.
 */
export function barPanels({ title, subtitle = '', unit, groups, labels, columns = 2 }) {
  const colorOf = (l) => PALETTE[labels.indexOf(l) % PALETTE.length];
  const labelW = 170;
  const barW = 260;
  const panelW = labelW + barW + 70;
  const rowH = 20;
  const rows = Math.max(1, ...groups.map((g) => g.bars.length));
  const panelH = 34 + rows * rowH + 10;
  const top = 56;
  const width = Math.max(columns * panelW + 20, Math.ceil(subtitle.length * 6.2) + 20);
  const height = top + Math.ceil(groups.length / columns) * panelH + 10;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" font-size="16" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="42" fill="#555">${esc(subtitle)}</text>`,
  ];
  groups.forEach((g, gi) => {
    const x0 = 10 + (gi % columns) * panelW;
    const y0 = top + Math.floor(gi / columns) * panelH;
    const max = Math.max(
      ...g.bars.map((b) => (Number.isFinite(b.hi) ? b.hi : b.value)).filter(Number.isFinite),
      1e-9,
    );
    out.push(`<text x="${x0}" y="${y0 + 16}" font-weight="bold">${esc(g.title)}</text>`);
    g.bars.forEach((b, bi) => {
      const y = y0 + 26 + bi * rowH;
      const w = Number.isFinite(b.value) ? (b.value / max) * barW : 0;
      out.push(`<text x="${x0 + labelW - 6}" y="${y + 13}" text-anchor="end">${esc(b.label)}</text>`);
      out.push(
        `<rect x="${x0 + labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${colorOf(b.label)}"><title>${esc(`${b.label}: ${fmt(b.value)} ${unit}`)}</title></rect>`,
      );
      if (Number.isFinite(b.lo) && Number.isFinite(b.hi) && b.hi > b.lo) {
        const a = x0 + labelW + (b.lo / max) * barW;
        const c = x0 + labelW + (b.hi / max) * barW;
        const m = y + rowH / 2 - 1;
        out.push(
          `<path d="M${a.toFixed(1)} ${m}H${c.toFixed(1)}M${a.toFixed(1)} ${m - 4}v8M${c.toFixed(1)} ${m - 4}v8" stroke="#222" stroke-width="1"/>`,
        );
      }
      const tx = x0 + labelW + Math.max(w, Number.isFinite(b.hi) ? (b.hi / max) * barW : 0) + 4;
      out.push(
        `<text x="${tx.toFixed(1)}" y="${y + 13}" fill="#222">${esc(Number.isFinite(b.value) ? fmt(b.value) : (b.note ?? 'skipped'))}</text>`,
      );
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function heatColor(t) {
  // white -> blue -> dark blue, perceptually monotone enough for a quick read.
  const stops = [
    [247, 251, 255],
    [107, 174, 214],
    [8, 48, 107],
  ];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f));
  return { fill: `rgb(${c.join(',')})`, text: t > 0.55 ? '#fff' : '#111' };
}

/**
 * Heat maps, one panel per workload: rows (server configurations) x columns (client settings),
 * cells coloured by value relative to the panel's best, which is outlined.
 * panels: [{ title, rows: [label], cols: [label], values: number[][] }]
 */
export function heatMaps({ title, subtitle = '', unit, panels }) {
  const rowLabelW = 190;
  const cellW = 78;
  const cellH = 22;
  const top = 56;
  const width = Math.max(
    20 + rowLabelW + Math.max(...panels.map((p) => p.cols.length)) * cellW,
    Math.ceil(subtitle.length * 6.2) + 20,
  );
  let y = top;
  const body = [];
  for (const p of panels) {
    const flat = p.values.flat().filter(Number.isFinite);
    const max = Math.max(...flat, 1e-9);
    const min = Math.min(...flat, max);
    body.push(`<text x="10" y="${y + 14}" font-weight="bold">${esc(p.title)} (${esc(unit)})</text>`);
    y += 22;
    p.cols.forEach((c, ci) => {
      body.push(
        `<text x="${10 + rowLabelW + ci * cellW + cellW / 2}" y="${y + 12}" text-anchor="middle" fill="#444">${esc(c)}</text>`,
      );
    });
    y += 18;
    p.rows.forEach((r, ri) => {
      body.push(`<text x="${10 + rowLabelW - 6}" y="${y + 15}" text-anchor="end">${esc(r)}</text>`);
      p.cols.forEach((c, ci) => {
        const v = p.values[ri][ci];
        const x = 10 + rowLabelW + ci * cellW;
        const t = Number.isFinite(v) ? (max === min ? 1 : (v - min) / (max - min)) : 0;
        const col = Number.isFinite(v) ? heatColor(t) : { fill: '#eee', text: '#999' };
        const best = Number.isFinite(v) && v === max;
        body.push(
          `<rect x="${x}" y="${y}" width="${cellW - 2}" height="${cellH - 2}" fill="${col.fill}"${best ? ' stroke="#d62728" stroke-width="2"' : ''}><title>${esc(`${r} / ${c}: ${fmt(v)} ${unit}`)}</title></rect>`,
        );
        body.push(
          `<text x="${x + cellW / 2 - 1}" y="${y + 15}" text-anchor="middle" fill="${col.text}">${esc(fmt(v))}</text>`,
        );
      });
      y += cellH;
    });
    y += 16;
  }
  const height = y + 10;
  return (
    [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
      `<rect width="100%" height="100%" fill="#fff"/>`,
      `<text x="10" y="22" font-size="16" font-weight="bold">${esc(title)}</text>`,
      `<text x="10" y="42" fill="#555">${esc(subtitle)}</text>`,
      ...body,
      '</svg>',
    ].join('\n') + '\n'
  );
}

/**
 * Flame graph (root at the bottom) from a tree { name, self, children } with times in ms.
 * Frames narrower than half a pixel are dropped; hover shows the full name and time.
 */
export function flameGraph({ title, root, width = 1200 }) {
  const rowH = 17;
  const total = (n) => (n.total ??= n.self + n.children.reduce((s, c) => s + total(c), 0));
  total(root);
  const scale = (width - 20) / Math.max(root.total, 1e-9);
  const rects = [];
  let depthMax = 0;
  const walk = (n, x, depth) => {
    const w = n.total * scale;
    if (w < 0.5) return;
    depthMax = Math.max(depthMax, depth);
    rects.push({ n, x, depth, w });
    let cx = x;
    for (const c of [...n.children].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      walk(c, cx, depth + 1);
      cx += c.total * scale;
    }
  };
  walk(root, 10, 0);
  const height = 50 + (depthMax + 1) * rowH + 10;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  for (const { n, x, depth, w } of rects) {
    const y = height - 10 - (depth + 1) * rowH;
    let h = 0;
    for (const ch of n.name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    const fill = `hsl(${10 + (h % 45)},${70 + (h % 20)}%,${55 + (h % 15)}%)`;
    const pct = ((n.total / root.total) * 100).toFixed(2);
    out.push(
      `<g><title>${esc(`${n.name}: ${n.total.toFixed(1)} ms (${pct}%), self ${n.self.toFixed(1)} ms`)}</title>`,
    );
    out.push(
      `<rect x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${rowH - 1}" fill="${fill}"/>`,
    );
    if (w > 40) {
      const chars = Math.floor((w - 6) / 6.5);
      const label = n.name.length > chars ? n.name.slice(0, Math.max(0, chars - 1)) + '…' : n.name;
      out.push(`<text x="${(x + 3).toFixed(2)}" y="${y + 12}">${esc(label)}</text>`);
    }
    out.push('</g>');
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
