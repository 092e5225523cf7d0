import { BULL_BOARD_CSP, stripThirdPartyLinks } from './bull-board.util';

describe('Bull Board page hardening', () => {
  it("should drop links to other origins and keep the board's own assets", () => {
    const page = [
      '<link href="https://fonts.googleapis.com/css2?family=IBM+Plex+Sans" rel="stylesheet">',
      '<link rel="stylesheet" href="//cdn.example.com/x.css">',
      '<link href="static/css/main.css" rel="stylesheet">',
      '<script defer src="static/js/main.js"></script>',
    ].join('\n');
    const out = stripThirdPartyLinks(page);
    expect(out).not.toContain('googleapis');
    expect(out).not.toContain('cdn.example.com');
    expect(out).toContain('static/css/main.css');
    expect(out).toContain('static/js/main.js');
  });

  it('should allow scripts from the hub only and name no other origin', () => {
    expect(BULL_BOARD_CSP).toMatch(/script-src 'self';/);
    expect(BULL_BOARD_CSP).not.toMatch(/https?:|\*|unsafe-eval/);
    expect(BULL_BOARD_CSP).toContain("frame-ancestors 'none'");
  });
});
