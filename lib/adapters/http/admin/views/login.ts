/** The sign-in form (its own CSRF token, double-submitted with a cookie). */
import { html, type Html } from '../html.js';

export function loginPage(token: string, next: string, message?: string): Html {
  return html`${message ? html`<p class="flash error" role="alert">${message}</p>` : ''}<form method="post" action="/admin/login" id="login">
<input type="hidden" name="csrf" value="${token}"><input type="hidden" name="next" value="${next}">
<label>Password<input type="password" name="password" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button></form>`;
}
