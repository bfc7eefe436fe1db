// Draws the Kommo widget's logos (widget/images/*.png) with the system Chromium, at
// the sizes Kommo asks for (bin/widget-package.ts WIDGET_IMAGES). Run once after a
// design change: `node scripts/widget-logos.mjs`; the PNGs are committed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SIZES = { 'logo_min.png': [84, 84], 'logo_medium.png': [240, 84], 'logo_main.png': [400, 272], 'logo_small.png': [108, 108], 'logo.png': [130, 100] };

// A handset over an asterisk, in Asterisk orange on a rounded tile.
const mark = (size) => `
<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 100 100">
  <rect x="2" y="2" width="96" height="96" rx="22" fill="#f26522"/>
  <g stroke="#fff" stroke-width="7" stroke-linecap="round">
    <line x1="68" y1="14" x2="68" y2="40"/><line x1="56.7" y1="20.5" x2="79.3" y2="33.5"/><line x1="56.7" y1="33.5" x2="79.3" y2="20.5"/>
  </g>
  <path fill="#fff" d="M30 26c3-2 7-1 8 2l5 11c1 3 0 5-2 7l-4 3c3 7 9 13 16 16l3-4c2-2 5-3 7-2l11 5c3 1 4 5 2 8l-4 6c-2 3-6 4-10 3C42 77 23 58 19 38c-1-4 0-8 3-10z"/>
</svg>`;

function page(name, [w, h]) {
  const square = w / h < 2;
  const tile = Math.round(Math.min(w, h) * (square ? 0.92 : 0.8));
  const text = square
    ? ''
    : `<div style="font:600 ${Math.round(h * 0.16)}px/1.15 'DejaVu Sans',sans-serif;color:#2d3e50;margin-left:${Math.round(h * 0.12)}px">Asterisk<br><span style="font-weight:400;color:#5b6b7c">click-to-call</span></div>`;
  return `<!doctype html><html><body style="margin:0;width:${w}px;height:${h}px;display:flex;align-items:center;justify-content:center;background:transparent">${mark(tile)}${text}</body></html>`;
}

const userDir = mkdtempSync(path.join(tmpdir(), 'ka-logos-'));
const browser = await puppeteer.launch({
  executablePath: process.env.KA_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${userDir}`],
});
try {
  const tab = await browser.newPage();
  for (const [name, size] of Object.entries(SIZES)) {
    await tab.setViewport({ width: size[0], height: size[1], deviceScaleFactor: 1 });
    await tab.setContent(page(name, size));
    await tab.screenshot({ path: path.join(root, 'widget', 'images', name), omitBackground: true });
    process.stdout.write(`widget/images/${name} ${size[0]}×${size[1]}\n`);
  }
} finally {
  await browser.close();
  rmSync(userDir, { recursive: true, force: true });
}
