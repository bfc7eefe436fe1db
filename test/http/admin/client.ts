/** A tiny HTTP client with a cookie jar, for the admin panel's tests. */
import { request } from 'node:http';

export interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export class Browser {
  readonly jar = new Map<string, string>();
  constructor(readonly port: number) {}

  async send(method: string, path: string, opts: { form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Res> {
    const body = opts.form ? new URLSearchParams(opts.form).toString() : undefined;
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (body !== undefined) headers['content-type'] ??= 'application/x-www-form-urlencoded';
    if (this.jar.size) headers['cookie'] = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await new Promise<Res>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: this.port, method, path, headers }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, text: Buffer.concat(chunks).toString() }));
        r.on('error', reject);
      });
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
    const set = res.headers['set-cookie'];
    for (const c of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair] = c.split(';');
      const i = (pair ?? '').indexOf('=');
      const name = (pair ?? '').slice(0, i);
      const value = (pair ?? '').slice(i + 1);
      if (/Max-Age=0/.test(c) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return res;
  }

  get(path: string, headers: Record<string, string> = {}): Promise<Res> {
    return this.send('GET', path, { headers });
  }

  post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Res> {
    return this.send('POST', path, { form, headers });
  }

  /** The hidden CSRF field of a page. */
  static csrf(page: string): string {
    const m = /name="csrf" value="([^"]+)"/.exec(page);
    if (!m?.[1]) throw new Error('no csrf field on the page');
    return m[1];
  }

  async signIn(password: string): Promise<Res> {
    const form = await this.get('/admin/login');
    return this.post('/admin/login', { csrf: Browser.csrf(form.text), password, next: '/admin' });
  }
}
