/** The issuer could not be reached, or answered with a server error: worth retrying later. */
export class IssuerUnreachable extends Error {
  override readonly name = "IssuerUnreachable"
}

/**
 * The fetch every back-channel call goes through. It rewrites URLs under the public issuer to
 * `internalUrl` (a pod reaching Keycloak through its cluster service, or the all-in-one reaching
 * its own embedded issuer on loopback), bounds each call in time, and turns network failures and
 * 5xx answers into {@link IssuerUnreachable} so they are never mistaken for a refusal.
 */
export const backChannelFetch = (issuer: string, internalUrl: string | undefined, timeoutMillis: number) =>
async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  const original = input instanceof Request ? input.url : input.toString()
  const prefix = issuer.endsWith("/") ? issuer : `${issuer}/`
  const target = internalUrl !== undefined && (original === issuer || original.startsWith(prefix))
    ? `${internalUrl.replace(/\/$/, "")}${original.slice(issuer.replace(/\/$/, "").length)}`
    : original
  let response: Response
  try {
    response = await fetch(input instanceof Request ? new Request(target, input) : target, {
      ...init,
      redirect: "manual",
      signal: init?.signal ?? AbortSignal.timeout(timeoutMillis)
    })
  } catch (cause) {
    throw new IssuerUnreachable(`the issuer cannot be reached (${new URL(target).host})`, { cause })
  }
  if (response.status >= 500) {
    await response.body?.cancel().catch(() => {})
    throw new IssuerUnreachable(`the issuer answered HTTP ${response.status}`)
  }
  return response
}
