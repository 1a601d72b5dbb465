/**
 * A minimal browser for driving sign-in pages in tests: a cookie jar (name, path), manual
 * redirects, and HTML forms filled by the caller. It stops at the first redirect to `stopAt` (a
 * URL prefix, or a test) and returns that URL, without requesting it.
 */
export interface Cookie {
  readonly name: string
  readonly value: string
  readonly path: string
}

export class Browser {
  readonly cookies = new Map<string, Cookie>()

  cookieHeader(url: URL): string {
    return [...this.cookies.values()]
      .filter((cookie) => url.pathname.startsWith(cookie.path))
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join("; ")
  }

  store(response: Response, url: URL): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";")
      const at = pair!.indexOf("=")
      const name = pair!.slice(0, at).trim()
      const value = pair!.slice(at + 1).trim()
      const pathAttribute = attributes.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith("path="))
      const path = pathAttribute?.slice(5) || url.pathname.replace(/\/[^/]*$/, "") || "/"
      const expired = attributes.some((a) => /^max-age=0$/i.test(a.trim()) || /^expires=Thu, 01 Jan 1970/i.test(a.trim()))
      if (expired || value === "") this.cookies.delete(`${name};${path}`)
      else this.cookies.set(`${name};${path}`, { name, value, path })
    }
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url)
    const headers = new Headers(init.headers)
    const cookie = this.cookieHeader(target)
    if (cookie !== "") headers.set("cookie", cookie)
    const response = await fetch(target, { ...init, headers, redirect: "manual" })
    this.store(response, target)
    return response
  }

  /**
   * Follows redirects and submits the forms `fill` answers for, until a redirect to `stopAt`.
   * Pages with a form are filled whatever their status (a 400 page re-asking is normal).
   * `fill` gets the form's field names and the page, and returns the values to post (hidden
   * inputs are kept unless overridden); returning undefined stops with an error.
   */
  async drive(
    start: string,
    stopAt: string | ((url: string) => boolean),
    fill: (fields: ReadonlyArray<string>, page: string) => Record<string, string> | undefined,
    maxSteps = 20
  ): Promise<string> {
    let response = await this.request(start)
    let current = start
    for (let step = 0; step < maxSteps; step++) {
      const location = response.headers.get("location")
      if (response.status >= 300 && response.status < 400 && location !== null) {
        const next = new URL(location, current).toString()
        await response.body?.cancel()
        if (typeof stopAt === "string" ? next.startsWith(stopAt) : stopAt(next)) return next
        current = next
        response = await this.request(next)
        continue
      }
      const page = await response.text()
      const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(page)
      if (response.status >= 500 || form === null) throw new Error(`stuck at ${current}: HTTP ${response.status} ${page.slice(0, 300)}`)
      const inputs = [...form[2]!.matchAll(/<input[^>]*>/gi)].map((m) => m[0])
      const attr = (tag: string, name: string) => new RegExp(`${name}="([^"]*)"`, "i").exec(tag)?.[1]
      const fields = inputs.map((tag) => attr(tag, "name")).filter((n): n is string => n !== undefined)
      const values = fill(fields, page)
      if (values === undefined) throw new Error(`no values for the form at ${current}`)
      const body = new URLSearchParams()
      for (const tag of inputs) {
        const name = attr(tag, "name")
        if (name !== undefined && /type="hidden"/i.test(tag)) body.set(name, decodeEntities(attr(tag, "value") ?? ""))
      }
      for (const [name, value] of Object.entries(values)) body.set(name, value)
      current = new URL(decodeEntities(form[1]!), current).toString()
      response = await this.request(current, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: new URL(current).origin },
        body
      })
    }
    throw new Error(`gave up after ${maxSteps} steps at ${current}`)
  }
}

const decodeEntities = (text: string) =>
  text.replaceAll("&amp;", "&").replaceAll("&quot;", "\"").replaceAll("&#39;", "'").replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&#x2F;", "/")
