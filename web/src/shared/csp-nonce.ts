// The nonce the server put in this response's CSP and in <meta name="csp-nonce"> (api/web-pages.ts):
// the one thing allowed to carry an inline <style>, which CodeMirror needs for its theme.
export const cspNonce: string =
  document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content ?? "";
