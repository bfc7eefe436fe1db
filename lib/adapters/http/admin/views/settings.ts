/** Settings check: the extension map against Kommo's users, the hooks, the configuration (secrets hidden). */
import type { HookInfo, KommoUserInfo } from '../deps.js';
import { html, type Html } from '../html.js';

export interface SettingsData {
  extensions: Readonly<Record<string, number>>;
  users: KommoUserInfo[] | { error: string };
  /** Extensions that rang today and are not in the map. */
  unmappedToday: Array<{ ext: string; calls: number }>;
  hooks: HookInfo[];
  configJson: string;
}

export function settingsPage(d: SettingsData): Html {
  const users = Array.isArray(d.users) ? new Map(d.users.map((u) => [u.id, u])) : undefined;
  const rows = Object.entries(d.extensions).sort(([a], [b]) => a.localeCompare(b));
  const state = (id: number): Html => {
    if (!users) return html`<span class="warn">unknown</span>`;
    const u = users.get(id);
    if (!u) return html`<span class="bad">no such Kommo user</span>`;
    return u.active ? html`<span class="ok">active</span>` : html`<span class="bad">deactivated</span>`;
  };
  return html`<h2>Extension map</h2>${Array.isArray(d.users) ? '' : html`<p class="flash error">Kommo's users could not be read: ${d.users.error}</p>`}
<div class="scroll"><table id="ext-map"><tr><th>Extension</th><th>Kommo user</th><th>Name</th><th>State</th></tr>${rows.map(([ext, id]) => html`<tr><td>${ext}</td><td>${id}</td><td>${users?.get(id)?.name ?? ''}</td><td>${state(id)}</td></tr>`)}</table></div>
<h2>Unmapped extensions that rang today</h2>${d.unmappedToday.length ? html`<table id="unmapped"><tr><th>Extension</th><th>Calls</th></tr>${d.unmappedToday.map((u) => html`<tr><td>${u.ext}</td><td>${u.calls}</td></tr>`)}</table>` : html`<p id="unmapped-none">none</p>`}
<h2>Customization hooks</h2><div class="scroll"><table id="hooks"><tr><th>Hook</th><th>On</th><th>Last error</th></tr>${d.hooks.map((h) => html`<tr><td>${h.hook}</td><td>${h.active ? html`<span class="ok">on</span>` : 'off'}</td><td>${h.error ? html`<span class="bad">${h.error.code}</span> ${h.error.message}` : ''}</td></tr>`)}</table></div>
<h2>Configuration</h2><details><summary>the configuration in force, secrets hidden</summary><pre id="config">${d.configJson}</pre></details>`;
}
