import { html } from '../site/html.util';
import { layout } from '../site/layout.view';

export function renderPasswordLogin(input: { csrfToken: string; email?: string; error?: string }): string {
  const main = html`<section class="form-page">
    <h1>Sign in</h1>
    <p>
      With the email and password you set in your settings. No password? <a href="/">Connect one of your services</a>
      instead: that signs you in too.
    </p>
    ${input.error === undefined ? '' : html`<p class="error" role="alert">${input.error}</p>`}
    <form method="post" action="/login" class="stack">
      <input type="hidden" name="_csrf" value="${input.csrfToken}" />
      <label for="email">Email</label>
      <input
        id="email"
        name="email"
        type="email"
        autocomplete="username"
        required
        maxlength="254"
        value="${input.email ?? ''}"
      />
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256" />
      <button type="submit" class="primary">Sign in</button>
    </form>
  </section>`;
  return layout({ title: 'Sign in', csrfToken: input.csrfToken, main });
}
