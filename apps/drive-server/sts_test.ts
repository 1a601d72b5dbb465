// STS AssumeRoleWithWebIdentity from a real sign-in: the embedded issuer (oidc-provider) on a
// real HTTP server, users signing in through its sign-in page (code + PKCE, driven by the OIDC
// adapter), the access token exchanged on the Drive by @aws-sdk/client-sts and by boto3, and the
// temporary credentials used until they expire or their user revokes them.
import { execFile } from "node:child_process"
import { createServer, type Server } from "node:http"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3ServiceException } from "@aws-sdk/client-s3"
import { AssumeRoleWithWebIdentityCommand, STSClient, STSServiceException } from "@aws-sdk/client-sts"
import { getSignedUrl } from "@aws-sdk/s3-request-presigner"
import { defaultDriveSettings, layerWebIdentityFromIdentity } from "@aquifer/drive"
import { Identity, layerIssuerStateMemory, layerLocalAccountsMemory } from "@aquifer/identity"
import { createAccount, make as makeIssuer, setPassword } from "@aquifer/identity-issuer"
import { layer as oidcLayer } from "@aquifer/identity-oidc"
import { Effect, Exit, Layer, ManagedRuntime, Redacted, Scope } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { Browser } from "../../scripts/testing/browser.ts"
import { freePort } from "../../scripts/testing/ports.ts"
import { ensureVenv } from "../../scripts/testing/venv.ts"
import { startTestDrive, type TestDrive } from "./_test_support.ts"

const run = promisify(execFile)
let issuerServer: Server
let issuerScope: Scope.Closeable
let origin: string
let identity: ManagedRuntime.ManagedRuntime<Identity, unknown>
let drive: TestDrive
let work: string
const password = "Drive-test-passphrase-42"

beforeAll(async () => {
  const port = await freePort()
  origin = `http://127.0.0.1:${port}`
  const stores = Layer.succeedContext(await Effect.runPromise(Effect.scoped(Layer.build(Layer.mergeAll(layerIssuerStateMemory, layerLocalAccountsMemory)))))
  issuerScope = Effect.runSync(Scope.make())
  const issuer = await Effect.runPromise(makeIssuer({ publicUrl: origin, announce: () => {} }).pipe(Effect.provide(stores), Scope.provide(issuerScope)))
  issuerServer = createServer((req, res) => (req.url?.startsWith("/oidc") ? issuer.handle(req, res) : res.writeHead(404).end()))
  await new Promise<void>((resolve) => issuerServer.listen(port, "127.0.0.1", () => resolve()))
  for (let i = 0; i < 400 && Exit.isFailure(await Effect.runPromiseExit(issuer.readiness)); i++) await new Promise((r) => setTimeout(r, 25))
  await Effect.runPromise(Effect.gen(function*() {
    const { account } = yield* createAccount({ username: "dana", name: "Dana Scully", email: "dana@example.test", roles: ["full"], groups: ["science"] })
    yield* setPassword(account.subject, Redacted.make(password))
    const fox = yield* createAccount({ username: "fox", name: "Fox Mulder", email: "fox@example.test", roles: ["full"], groups: [] })
    yield* setPassword(fox.account.subject, Redacted.make(password))
  }).pipe(Effect.provide(stores)))
  const oidc = oidcLayer({
    issuer: issuer.issuer,
    clientId: issuer.clientId,
    clientSecret: issuer.clientSecret,
    audience: [issuer.audience],
    trustedClients: [issuer.clientId],
    allowInsecureRequests: true
  })
  identity = ManagedRuntime.make(oidc)
  drive = await startTestDrive({
    verifier: layerWebIdentityFromIdentity.pipe(Layer.provide(oidc)),
    settings: { ...defaultDriveSettings, sts: { minDurationSeconds: 1, maxDurationSeconds: 3600, defaultDurationSeconds: 900 } }
  })
  work = mkdtempSync(join(tmpdir(), "aquifer-drive-sts-"))
})

afterAll(async () => {
  await drive?.stop()
  await identity?.dispose()
  await new Promise<void>((resolve) => {
    issuerServer?.closeAllConnections()
    issuerServer?.close(() => resolve())
  })
  if (issuerScope !== undefined) await Effect.runPromise(Scope.close(issuerScope, Exit.void))
  if (work !== undefined) rmSync(work, { recursive: true, force: true })
})

/** Signs in as `username` (dana by default) through the issuer's own page; returns the OIDC access token. */
const signIn = async (username = "dana"): Promise<string> => {
  const redirectUri = `${origin}/auth/callback`
  const challenge = await identity.runPromise(Effect.gen(function*() {
    return yield* (yield* Identity).beginSignIn({ redirectUri })
  }))
  const callbackUrl = await new Browser().drive(challenge.url, redirectUri, (fields) => fields.includes("username") ? { username, password } : undefined)
  const tokens = await identity.runPromise(Effect.gen(function*() {
    return yield* (yield* Identity).finishSignIn({
      callbackUrl,
      redirectUri,
      expected: { state: challenge.state, nonce: challenge.nonce, codeVerifier: challenge.codeVerifier }
    })
  }))
  return Redacted.value(tokens.accessToken)
}

const sts = () => new STSClient({ endpoint: drive.url, region: "us-east-1", maxAttempts: 1 })

/** Temporary credentials for an access token, through @aws-sdk/client-sts. */
const assume = async (token: string, DurationSeconds = 900) => {
  const client = sts()
  const assumed = await client.send(new AssumeRoleWithWebIdentityCommand({
    RoleArn: "arn:aws:iam::aquifer:role/drive",
    RoleSessionName: "revocation-test",
    WebIdentityToken: token,
    DurationSeconds
  }))
  client.destroy()
  const c = assumed.Credentials!
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! }
}

/** The S3 error name of a request, or "ok". */
const outcome = (promise: Promise<unknown>) => promise.then(() => "ok", (error: S3ServiceException) => error.name)

describe("STS AssumeRoleWithWebIdentity", () => {
  it("exchanges a signed-in user's access token with @aws-sdk/client-sts, and the credentials work until they expire", async () => {
    const token = await signIn()
    const client = sts()
    const assumed = await client.send(new AssumeRoleWithWebIdentityCommand({
      RoleArn: "arn:aws:iam::aquifer:role/drive",
      RoleSessionName: "sdk-test",
      WebIdentityToken: token,
      // Long enough for the calls below on a loaded machine, short enough to wait out.
      DurationSeconds: 12
    }))
    client.destroy()
    const credentials = assumed.Credentials!
    assert.match(credentials.AccessKeyId!, /^AQT/)
    assert.isAbove(credentials.Expiration!.getTime(), Date.now())
    assert.isBelow(credentials.Expiration!.getTime(), Date.now() + 13_000)
    const s3 = drive.client({ accessKeyId: credentials.AccessKeyId!, secretAccessKey: credentials.SecretAccessKey!, sessionToken: credentials.SessionToken! })
    const buckets = await s3.send(new ListBucketsCommand({}))
    const home = buckets.Buckets![0]!.Name!
    assert.match(home, /^dana-[0-9a-f]{8}$/)
    await s3.send(new PutObjectCommand({ Bucket: home, Key: "from-sts.txt", Body: "temporary but real" }))
    assert.strictEqual(await (await s3.send(new GetObjectCommand({ Bucket: home, Key: "from-sts.txt" }))).Body!.transformToString(), "temporary but real")
    let code: string | undefined
    const deadline = Date.now() + 40_000
    while (code === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      code = await s3.send(new ListBucketsCommand({})).then(() => undefined, (error: S3ServiceException) => error.name)
    }
    assert.strictEqual(code, "ExpiredToken")
    const withoutToken = drive.client({ accessKeyId: credentials.AccessKeyId!, secretAccessKey: credentials.SecretAccessKey! })
    assert.strictEqual(await withoutToken.send(new ListBucketsCommand({})).then(() => "ok", (e: S3ServiceException) => e.name), "InvalidToken")
  })

  it("refuses a forged or tampered token and an out-of-range duration", async () => {
    const token = await signIn()
    const client = sts()
    const attempt = (WebIdentityToken: string, DurationSeconds?: number) =>
      client.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: "arn:aws:iam::aquifer:role/drive", RoleSessionName: "x-test", WebIdentityToken, DurationSeconds }))
        .then(() => "ok", (error: STSServiceException) => error.name)
    const [header, payload, signature] = token.split(".")
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString()) as Record<string, unknown>
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: "someone-else" })).toString("base64url")}.${signature}`
    assert.strictEqual(await attempt(forged), "InvalidIdentityTokenException")
    assert.strictEqual(await attempt("not-a-token"), "InvalidIdentityTokenException")
    assert.strictEqual(await attempt(token, 999_999), "ValidationError")
    assert.strictEqual(await attempt(token), "ok")
    client.destroy()
  })

  it("works from boto3 (newest, defaults): assume_role_with_web_identity, then S3 with the temporary credentials", async () => {
    const token = await signIn()
    const venv = await ensureVenv("boto3", ["boto3==1.44.18"])
    const { stdout } = await run(venv.bin("python"), [join(import.meta.dirname, "testdata", "boto3_client.py")], {
      env: {
        PATH: "/usr/bin:/bin",
        HOME: work,
        AWS_CONFIG_FILE: join(work, "none"),
        AWS_SHARED_CREDENTIALS_FILE: join(work, "none"),
        AWS_EC2_METADATA_DISABLED: "true",
        DRIVE_ENDPOINT: drive.url,
        DRIVE_BUCKET: "dana-boto3",
        DRIVE_WORKDIR: work,
        DRIVE_WEB_IDENTITY_TOKEN: token
      },
      maxBuffer: 4 * 1024 * 1024
    })
    const result = JSON.parse(stdout) as Record<string, unknown>
    assert.match(result.sts_access_key as string, /^AQT/)
    assert.isTrue(result.small_equal)
    assert.isTrue(result.big_equal)
    assert.strictEqual(result.left, 0)
    assert.include(result.buckets as Array<string>, (result.buckets as Array<string>).find((b) => b.startsWith("dana-")))
  })

  it("revokes a user's temporary credentials before they expire; fresh ones, long-lived keys and other users' keep working", async () => {
    const [danaToken, foxToken] = [await signIn("dana"), await signIn("fox")]
    const api = (method: string, token: string, path = "temporary-credentials", body?: string) =>
      fetch(`${drive.url}/_drive/api/${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body
      })
    const danaOld = drive.client(await assume(danaToken))
    const danaOlder = drive.client(await assume(danaToken))
    const foxCreds = drive.client(await assume(foxToken))
    const created = await api("POST", danaToken, "access-keys", JSON.stringify({ description: "stays" }))
    assert.strictEqual(created.status, 201)
    const key = (await created.json()) as { id: string; secretAccessKey: string }
    const danaKey = drive.client({ accessKeyId: key.id, secretAccessKey: key.secretAccessKey })
    const home = (await danaOld.send(new ListBucketsCommand({}))).Buckets![0]!.Name!
    await danaOld.send(new PutObjectCommand({ Bucket: home, Key: "before-revocation.txt", Body: "still here" }))
    const presigned = await getSignedUrl(danaOld, new GetObjectCommand({ Bucket: home, Key: "before-revocation.txt" }), { expiresIn: 600 })
    assert.strictEqual((await fetch(presigned)).status, 200)
    const before = (await (await api("GET", danaToken)).json()) as { revokedBefore: string | null }
    assert.isNull(before.revokedBefore)

    const revoked = await api("DELETE", danaToken)
    assert.strictEqual(revoked.status, 200)
    const { revokedBefore } = (await revoked.json()) as { revokedBefore: string }
    assert.isAtMost(Date.parse(revokedBefore), Date.now())
    assert.deepStrictEqual(await (await api("GET", danaToken)).json(), { revokedBefore })

    for (const client of [danaOld, danaOlder]) {
      assert.strictEqual(await outcome(client.send(new ListBucketsCommand({}))), "InvalidToken")
      assert.strictEqual(await outcome(client.send(new GetObjectCommand({ Bucket: home, Key: "before-revocation.txt" }))), "InvalidToken")
      assert.strictEqual(await outcome(client.send(new PutObjectCommand({ Bucket: home, Key: "after.txt", Body: "refused" }))), "InvalidToken")
    }
    const refusedUrl = await fetch(presigned)
    assert.strictEqual(refusedUrl.status, 400)
    const refusal = await refusedUrl.text()
    assert.include(refusal, "<Code>InvalidToken</Code>")
    assert.include(refusal, "revoked")

    const danaFresh = drive.client(await assume(danaToken))
    assert.strictEqual(await (await danaFresh.send(new GetObjectCommand({ Bucket: home, Key: "before-revocation.txt" }))).Body!.transformToString(), "still here")
    assert.strictEqual(await outcome(danaFresh.send(new PutObjectCommand({ Bucket: home, Key: "after.txt", Body: "fresh" }))), "ok")
    assert.strictEqual(await outcome(danaKey.send(new ListBucketsCommand({}))), "ok")
    assert.strictEqual(await outcome(foxCreds.send(new ListBucketsCommand({}))), "ok")
    assert.strictEqual(await outcome(danaOld.send(new ListBucketsCommand({}))), "InvalidToken", "revoked stays revoked")
    const foxState = (await (await api("GET", foxToken)).json()) as { revokedBefore: string | null }
    assert.isNull(foxState.revokedBefore)

    const anonymous = await fetch(`${drive.url}/_drive/api/temporary-credentials`, { method: "DELETE" })
    assert.strictEqual(anonymous.status, 401)
    await anonymous.body?.cancel()
    assert.strictEqual(await outcome(foxCreds.send(new ListBucketsCommand({}))), "ok")
  })

  it("serves the JSON API of its own service to the same access tokens, and to nothing else", async () => {
    const token = await signIn()
    const listed = await fetch(`${drive.url}/_drive/api/buckets`, { headers: { authorization: `Bearer ${token}` } })
    assert.strictEqual(listed.status, 200)
    const items = ((await listed.json()) as { items: Array<{ name: string; access: string }> }).items
    assert.isTrue(items.some((b) => b.name.startsWith("dana-") && b.access === "owner"))
    const forged = await fetch(`${drive.url}/_drive/api/buckets`, { headers: { authorization: `Bearer ${token.slice(0, -4)}AAAA` } })
    assert.strictEqual(forged.status, 401)
    assert.strictEqual(forged.headers.get("content-type"), "application/problem+json")
    await forged.body?.cancel()
    const anonymous = await fetch(`${drive.url}/_drive/api/buckets`)
    assert.strictEqual(anonymous.status, 401)
    await anonymous.body?.cancel()
  })
})
