/**
 * The comparison report as one self-contained HTML page: the image, each
 * method's overlay in a grid, a sortable table of each method's time and
 * metric scores, the model's top classes. Images are inline PNG data URLs,
 * the sorting is a few lines of inline script: the file opens anywhere, offline.
 */
import { encodePng, overlay, type RgbaImage } from '../image/index.js';
import type { Comparison } from '../metrics/compare.js';

export interface ReportInfo {
  /** Shown as the page title and heading. */
  title: string;
  model: string;
  image: string;
  /** An ISO date, shown in the header. */
  created: string;
}

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const pngUrl = (image: RgbaImage): string => `data:image/png;base64,${Buffer.from(encodePng(image)).toString('base64')}`;

function format(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '–';
  const a = Math.abs(value);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? value.toExponential(2) : value.toFixed(a >= 100 ? 1 : 4);
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1b1f24; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.meta { color: #57606a; margin: 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 14px; }
figure { margin: 0; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px; background: #f6f8fa; }
figure img { width: 100%; aspect-ratio: var(--aspect); image-rendering: pixelated; display: block; border-radius: 3px; }
figcaption { margin-top: 6px; font-weight: 600; } figcaption span { font-weight: 400; color: #57606a; }
figure.failed figcaption { color: #cf222e; }
table { border-collapse: collapse; } th, td { border-bottom: 1px solid #d0d7de; padding: 5px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th.sortable { cursor: pointer; user-select: none; white-space: nowrap; } th.sortable:hover { background: #f6f8fa; }
th[aria-sort="ascending"]::after { content: " ▲"; } th[aria-sort="descending"]::after { content: " ▼"; }
td.best { font-weight: 700; background: #dafbe1; }
.note { color: #57606a; max-width: 60em; }
`;

const SCRIPT = `
document.querySelectorAll('table.sortable').forEach(function (table) {
  var headers = table.querySelectorAll('th');
  headers.forEach(function (th, column) {
    th.classList.add('sortable');
    th.addEventListener('click', function () {
      var ascending = th.getAttribute('aria-sort') !== 'ascending';
      headers.forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute('data-value');
        var y = b.cells[column].getAttribute('data-value');
        var nx = parseFloat(x), ny = parseFloat(y);
        var r = isNaN(nx) || isNaN(ny) ? String(x).localeCompare(String(y)) : nx - ny;
        return ascending ? r : -r;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
`;

/** The page for `comparison` of `image` (the picture the model saw, at its input size). */
export function renderReport(comparison: Comparison, image: RgbaImage, info: ReportInfo): string {
  const aspect = `${image.width} / ${image.height}`;
  const figures = [
    `<figure data-method="input"><img alt="input image" src="${pngUrl(image)}"><figcaption>input <span>${escape(comparison.targetLabel)} explained</span></figcaption></figure>`,
    ...comparison.methods.map((m) => {
      const picture = overlay(image, m.map);
      const caption = m.error
        ? `${escape(m.name)} <span>failed: ${escape(m.error)}</span>`
        : `${escape(m.name)} <span>${format(m.timeMs)} ms</span>`;
      return `<figure data-method="${escape(m.name)}"${m.error ? ' class="failed"' : ''}><img alt="${escape(m.name)} overlay" src="${pngUrl(picture)}"><figcaption>${caption}</figcaption></figure>`;
    }),
  ];
  // The best value of each metric column among the methods that ran.
  const ok = comparison.methods.filter((m) => !m.error);
  const best = new Map(
    comparison.metrics.map((metric) => {
      const values = ok.map((m) => m.metrics[metric.name]).filter((v): v is number => v !== undefined && !Number.isNaN(v));
      // No shading when every method scores the same.
      const spread = values.length > 1 && Math.max(...values) > Math.min(...values);
      return [metric.name, spread ? (metric.better === 'higher' ? Math.max(...values) : Math.min(...values)) : undefined] as const;
    }),
  );
  const rows = comparison.methods.map((m) => {
    const cells = comparison.metrics.map((metric) => {
      const v = m.metrics[metric.name];
      const isBest = v !== undefined && v === best.get(metric.name) && ok.length > 1;
      return `<td data-value="${v ?? ''}"${isBest ? ' class="best"' : ''}>${format(v)}</td>`;
    });
    return `<tr data-method="${escape(m.name)}"><td data-value="${escape(m.name)}">${escape(m.name)}</td><td data-value="${m.timeMs}">${format(m.timeMs)}</td><td data-value="${m.metricTimeMs}">${format(m.metricTimeMs)}</td>${cells.join('')}</tr>`;
  });
  const metricHeaders = comparison.metrics.map((m) => `<th title="${escape(m.about)}">${escape(m.label)} (${m.better === 'higher' ? '↑' : '↓'})</th>`);
  const topRows = comparison.top.map(
    (t, i) => `<tr><td>${i + 1}. ${escape(t.label)}</td><td>${(100 * t.probability).toFixed(2)} %</td><td>${format(t.logit)}</td></tr>`,
  );
  const notes = comparison.metrics.map((m) => `<li><b>${escape(m.label)}</b> (${m.better} is better): ${escape(m.about)}</li>`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(info.title)}</title>
<style>${STYLE}</style>
</head>
<body style="--aspect: ${aspect}">
<header>
<h1>${escape(info.title)}</h1>
<p class="meta">model <b>${escape(info.model)}</b> · image <b>${escape(info.image)}</b> (${comparison.width}×${comparison.height} as the model saw it) · class explained <b>${escape(comparison.targetLabel)}</b> (${comparison.target}) · ${escape(info.created)}</p>
</header>
<h2>Top ${comparison.top.length}</h2>
<table id="top"><thead><tr><th>class</th><th>probability</th><th>logit</th></tr></thead><tbody>${topRows.join('')}</tbody></table>
<h2>Maps</h2>
<div class="grid">${figures.join('\n')}</div>
<h2>Scores</h2>
<table id="scores" class="sortable"><thead><tr><th>method</th><th>time (ms)</th><th>metrics time (ms)</th>${metricHeaders.join('')}</tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
<p class="note">Click a column to sort. The best value of each metric is shaded; ↑ higher is better, ↓ lower is better. Scores are the target class's logit.</p>
<ul class="note">${notes.join('')}</ul>
<p class="note">Made by tinycam compare.</p>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
