// The embedded issuer's own pages: sign-in, choosing a new password, sign-out confirmation,
// errors. Plain HTML, every interpolated value escaped, no script, no external resource.

export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"'/]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;", "/": "&#x2F;" })[c]!)

const style = `body{font-family:system-ui,sans-serif;background:#f4f6f8;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;padding:2rem 2.5rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15);width:20rem}
h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;margin:.8rem 0 .2rem;font-size:.9rem}
input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}button{margin-top:1.2rem;width:100%;padding:.6rem;font-size:1rem;background:#1f6feb;color:#fff;border:0;border-radius:4px}
.error{color:#b00020;font-size:.9rem}.note{color:#555;font-size:.85rem}a{color:#1f6feb}`

export const page = (title: string, body: string): string => `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Aquifer</title><style>${style}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`

export const signInPage = (action: string, abort: string, options: { username?: string; error?: string } = {}): string =>
  page("Sign in to Aquifer", `
${options.error === undefined ? "" : `<p class="error" role="alert">${escapeHtml(options.error)}</p>`}
<form method="post" action="${escapeHtml(action)}" autocomplete="on">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" required autofocus value="${escapeHtml(options.username ?? "")}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<p class="note"><a href="${escapeHtml(abort)}">Cancel</a></p>`)

export const newPasswordPage = (action: string, options: { error?: string } = {}): string =>
  page("Choose a new password", `
<p class="note">Your password was set for one use only. Choose your own to continue.</p>
${options.error === undefined ? "" : `<p class="error" role="alert">${escapeHtml(options.error)}</p>`}
<form method="post" action="${escapeHtml(action)}">
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" minlength="12" required autofocus>
<label for="confirm">Repeat it</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" minlength="12" required>
<button type="submit">Save and continue</button>
</form>`)

/** oidc-provider gives the form element (with its CSRF field) and expects the page around it. */
export const signOutPage = (form: string): string =>
  page("Sign out", `${form}<p>Sign out of Aquifer on this browser?</p>
<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>
<button type="submit" form="op.logoutForm" style="background:#6b7280">Stay signed in</button>`)

export const signedOutPage = (): string => page("Signed out", `<p>You are signed out.</p><p class="note"><a href="/">Back to Aquifer</a></p>`)

export const errorPage = (message: string): string => page("Something went wrong", `<p class="error">${escapeHtml(message)}</p><p class="note"><a href="/">Back to Aquifer</a></p>`)
