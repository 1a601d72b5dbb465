// STS on the Drive's endpoint (MinIO's model): `AssumeRoleWithWebIdentity` exchanges an OIDC
// access token for temporary S3 credentials. Unsigned, like AWS's: the token is the proof.
import { assumeRoleWithWebIdentity } from "@aquifer/drive"
import { Cause, Exit } from "effect"
import type { DriveRuntime } from "./context.ts"
import { toXml } from "./xml.ts"

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

const stsError = (status: number, code: string, message: string, requestId: string, type = "Sender"): Response =>
  new Response(
    toXml("ErrorResponse", { Error: { Type: type, Code: code, Message: message }, RequestId: requestId }, stsNamespace),
    { status, headers: { "content-type": "text/xml", "x-amzn-requestid": requestId } }
  )

/** True when the request is an STS call (an `Action` parameter on the service root). */
export const isStsAction = (params: URLSearchParams): boolean => params.has("Action")

export const handleSts = async (
  runtime: DriveRuntime,
  params: URLSearchParams,
  requestId: string,
  onDefect: (cause: Cause.Cause<unknown>) => void
): Promise<Response> => {
  const action = params.get("Action")
  if (action !== "AssumeRoleWithWebIdentity") {
    return stsError(400, "InvalidAction", `Could not find operation ${String(action).slice(0, 64)} for version ${params.get("Version") ?? ""}`, requestId)
  }
  const token = params.get("WebIdentityToken")
  if (token === null || token === "" || token.length > 20_000) {
    return stsError(400, "ValidationError", "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must not be null", requestId)
  }
  const sessionName = params.get("RoleSessionName")
  if (sessionName !== null && !/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    return stsError(400, "ValidationError", "Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", requestId)
  }
  const durationText = params.get("DurationSeconds")
  if (durationText !== null && !/^\d{1,6}$/.test(durationText)) {
    return stsError(400, "ValidationError", "DurationSeconds must be an integer", requestId)
  }
  const exit = await runtime.runPromiseExit(assumeRoleWithWebIdentity({
    webIdentityToken: token,
    durationSeconds: durationText === null ? undefined : Number(durationText)
  }))
  if (Exit.isFailure(exit)) {
    const failure = exit.cause.reasons.find(Cause.isFailReason)
    const error = failure?.error as { readonly _tag: string; readonly message: string } | undefined
    if (error?._tag === "Unauthenticated") return stsError(400, "InvalidIdentityToken", "The web identity token that was passed could not be validated.", requestId)
    if (error?._tag === "InvalidInput") return stsError(400, "ValidationError", error.message, requestId)
    if (error?._tag === "Unavailable") return stsError(503, "IDPCommunicationError", "The identity provider could not be reached; try again later.", requestId, "Receiver")
    onDefect(exit.cause)
    return stsError(500, "InternalFailure", "The request processing has failed because of an unknown error.", requestId, "Receiver")
  }
  const { credentials, principal } = exit.value
  return new Response(
    toXml("AssumeRoleWithWebIdentityResponse", {
      AssumeRoleWithWebIdentityResult: {
        Credentials: {
          AccessKeyId: credentials.accessKeyId,
          SecretAccessKey: credentials.secretAccessKey,
          SessionToken: credentials.sessionToken,
          Expiration: credentials.expiresAt.toISOString()
        },
        SubjectFromWebIdentityToken: principal.subject,
        Audience: "aquifer-drive",
        Provider: principal.issuer,
        AssumedRoleUser: {
          Arn: `arn:aws:sts::aquifer:assumed-role/drive/${sessionName ?? principal.subject}`,
          AssumedRoleId: `${credentials.accessKeyId}:${sessionName ?? principal.subject}`
        }
      },
      ResponseMetadata: { RequestId: requestId }
    }, stsNamespace),
    { status: 200, headers: { "content-type": "text/xml", "x-amzn-requestid": requestId } }
  )
}
