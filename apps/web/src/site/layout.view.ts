import { type SafeHtml, html } from './html.util';

/** The sections of the signed-in site, in navigation order. */
export type SiteSection = 'dashboard' | 'activities' | 'stats' | 'settings' | 'admin';

const SECTIONS: readonly { id: SiteSection; href: string; label: string; adminOnly?: boolean }[] = [
  { id: 'dashboard', href: '/dashboard', label: 'Dashboard' },
  { id: 'activities', href: '/activities', label: 'Activities' },
  { id: 'stats', href: '/stats', label: 'Stats' },
  { id: 'settings', href: '/settings', label: 'Settings' },
  { id: 'admin', href: '/admin', label: 'Admin', adminOnly: true },
];

export interface Layout {
  title: string;
  /** Present on every page of a browser session: forms embed it, scripts read it from the meta tag. */
  csrfToken?: string;
  signedIn?: boolean;
  /** Shows the admin section in the navigation. Access is checked on the server either way. */
  isAdmin?: boolean;
  /** Marks the current section in the navigation. */
  section?: SiteSection;
  /** Same-origin script URLs (the CSP allows only 'self'), loaded deferred: pages work without them. */
  scripts?: readonly string[];
  /** Same-origin stylesheets besides the site's own (a bundled library's CSS). */
  styles?: readonly string[];
  main: SafeHtml;
}

/** The page shell every server-rendered page uses. */
export function layout({ title, csrfToken, signedIn, isAdmin, section, scripts, styles, main }: Layout): string {
  const signedInNav = signedIn === true && csrfToken !== undefined;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Tributary</title>
        ${csrfToken === undefined ? '' : html`<meta name="csrf-token" content="${csrfToken}" />`}
        <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/assets/site.css" />
        ${(styles ?? []).map((href) => html`<link rel="stylesheet" href="${href}" />`)}
        ${(scripts ?? []).map((src) => html`<script src="${src}" defer></script>`)}
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="/">Tributary</a>
          <nav aria-label="Account">
            ${
              signedInNav
                ? html`${SECTIONS.filter((s) => s.adminOnly !== true || isAdmin === true).map(
                      (s) =>
                        html`<a href="${s.href}" ${s.id === section ? html`aria-current="page"` : ''}>${s.label}</a>`,
                    )}
                    <form method="post" action="/signout" class="inline">
                      <input type="hidden" name="_csrf" value="${csrfToken}" />
                      <button type="submit" class="link">Sign out</button>
                    </form>`
                : ''
            }
          </nav>
        </header>
        <main id="main">${main}</main>
        <footer class="foot">
          <p>Tributary is open source. Your tokens are encrypted at rest and never shared.</p>
        </footer>
      </body>
    </html> `.value;
}
