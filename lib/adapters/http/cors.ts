/**
 * `http.cors_origins` entries are origins such as `https://example.com` or
 * `https://*.kommo.com` (one subdomain label in place of `*`). They become
 * anchored regular expressions; nothing else in an entry is a pattern.
 */
export function originMatcher(origin: string): RegExp {
  const escaped = origin
    .trim()
    .replace(/\/+$/, '')
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
    .join('[a-z0-9-]+');
  return new RegExp(`^${escaped}$`, 'i');
}

export function originMatchers(origins: readonly string[]): RegExp[] {
  return origins.filter((o) => o.trim() !== '').map(originMatcher);
}
