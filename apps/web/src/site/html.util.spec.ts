import { SafeHtml, escapeHtml, html } from './html.util';

describe('html', () => {
  it('should escape interpolated text but not nested html', () => {
    const name = '<script>alert("x")</script> & \'co\'';
    const inner = html`<b>${'ok'}</b>`;
    // Called through an alias so Prettier does not reformat the markup under test.
    const render = html;
    const out = render`<p title="${name}">${name}</p>${inner}`;
    expect(out).toBeInstanceOf(SafeHtml);
    expect(out.value).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;</p><b>ok</b>',
    );
  });

  it('should render arrays and drop null, undefined and false', () => {
    expect(html`${['a<', html`<i>b</i>`]}${null}${undefined}${false}${0}`.value).toBe('a&lt;<i>b</i>0');
  });
});

describe('escapeHtml', () => {
  it('should leave plain text alone', () => {
    expect(escapeHtml('Strava 12345')).toBe('Strava 12345');
  });
});
