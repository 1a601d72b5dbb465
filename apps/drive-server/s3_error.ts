// An S3 error as the wire shows it: a code, an HTTP status, a message and extra elements.
export class S3Error extends Error {
  readonly code: string
  readonly status: number
  readonly extra: Readonly<Record<string, string | number>>
  constructor(code: string, status: number, message: string, extra: Record<string, string | number> = {}) {
    super(message)
    this.name = "S3Error"
    this.code = code
    this.status = status
    this.extra = extra
  }
}

export const accessDenied = (message = "Access Denied") => new S3Error("AccessDenied", 403, message)
export const invalidArgument = (message: string, extra: Record<string, string | number> = {}) =>
  new S3Error("InvalidArgument", 400, message, extra)
export const invalidRequest = (message: string) => new S3Error("InvalidRequest", 400, message)
export const malformedXml = () =>
  new S3Error("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema.")
export const notImplemented = (what: string) =>
  new S3Error("NotImplemented", 501, `A header or query you provided implies functionality that is not implemented: ${what}`)
export const signatureMismatch = (extra: Record<string, string | number> = {}) =>
  new S3Error(
    "SignatureDoesNotMatch",
    403,
    "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    extra
  )
