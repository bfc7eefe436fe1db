/** The panel's page frame (nav, sign-out form), its stylesheet and its small script. */
import { html, type Html } from './html.js';

export const NAV: ReadonlyArray<[path: string, label: string]> = [
  ['/admin', 'Health'],
  ['/admin/live', 'Live calls'],
  ['/admin/calls', 'Journal'],
  ['/admin/fix', 'Fix'],
  ['/admin/settings', 'Settings'],
];

export interface PageOptions {
  title: string;
  /** The nav entry to highlight. */
  active?: string;
  /** The session's CSRF token (absent on the sign-in page: no nav). */
  csrf?: string;
  flash?: string;
}

export function page(opts: PageOptions, body: Html): Html {
  const nav = opts.csrf
    ? html`<nav>${NAV.map(([href, label]) => html`<a href="${href}"${opts.active === href ? html` aria-current="page"` : ''}>${label}</a>`)}
<form method="post" action="/admin/logout" class="inline"><input type="hidden" name="csrf" value="${opts.csrf}"><button type="submit" class="link">Sign out</button></form></nav>`
    : '';
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · kommo-asterisk</title><link rel="stylesheet" href="/admin/static/admin.css"><script src="/admin/static/admin.js" defer></script></head>
<body><header><strong>kommo-asterisk</strong> ${nav}</header>
<main><h1>${opts.title}</h1>${opts.flash ? html`<p class="flash" role="status">${opts.flash}</p>` : ''}${body}</main></body></html>`;
}

export const CSS = `*{box-sizing:border-box}body{margin:0;font:15px/1.4 system-ui,sans-serif;color:#1b1f24;background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center}
header nav{display:flex;flex-wrap:wrap;gap:.25rem .9rem;align-items:center}header a,header .link{color:#dbe7ff;text-decoration:none}
header a[aria-current]{color:#fff;font-weight:600;border-bottom:2px solid #fff}main{padding:1rem;max-width:72rem;margin:auto}
h1{font-size:1.35rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:1.2rem 0 .5rem}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e6ea;vertical-align:top}
.scroll{overflow-x:auto}.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(13rem,1fr));gap:.6rem}
.card{background:#fff;border:1px solid #e3e6ea;border-radius:6px;padding:.6rem .8rem}.ok{color:#17702c}.bad{color:#b3261e}.warn{color:#8a5a00}
.flash{background:#e8f3ff;border:1px solid #9cc3f5;padding:.5rem .8rem;border-radius:4px}.error{background:#fdecea;border-color:#f1a9a3}
form.inline{display:inline}button,.button{background:#1f5fbf;color:#fff;border:0;border-radius:4px;padding:.45rem .9rem;font:inherit;cursor:pointer;text-decoration:none;display:inline-block}
button.link{background:none;padding:0;color:inherit}button.danger{background:#b3261e}
label{display:inline-flex;flex-direction:column;margin:0 .6rem .6rem 0;font-size:.85rem}input,select{font:inherit;padding:.3rem;min-width:9rem}
.badge{display:inline-block;padding:0 .45rem;border-radius:9px;font-size:.8rem;background:#e3e6ea}.badge.done{background:#d5f0dc}.badge.failed{background:#fbd9d6}.badge.pending{background:#fff1c7}.badge.skipped{background:#e6e1f5}
pre{background:#fff;border:1px solid #e3e6ea;padding:.6rem;overflow:auto;font-size:.8rem}svg.chart{width:100%;height:auto;background:#fff;border:1px solid #e3e6ea}
audio{width:100%;max-width:30rem}@media (max-width:600px){main{padding:.5rem}td,th{padding:.3rem}.hide-sm{display:none}}`;

/** Live sections: `<div data-poll="/admin/…?frag=1">` is refreshed every 2 s; a lost session reloads (to the sign-in page). */
export const JS = `'use strict';
document.addEventListener('DOMContentLoaded',()=>{
for(const el of document.querySelectorAll('[data-poll]')){
const url=el.getAttribute('data-poll');const every=Number(el.getAttribute('data-every')||2000);
const tick=async()=>{try{const r=await fetch(url,{credentials:'same-origin',headers:{accept:'text/html'}});
if(r.status===401){location.reload();return}if(r.ok)el.innerHTML=await r.text();}catch(e){}setTimeout(tick,every)};setTimeout(tick,every);}
});`;
