// The Drive mounted in the all-in-one: a real server (PGlite, blob-fs, the embedded issuer),
// a user signing in through the issuer's page, STS at /drive with @aws-sdk/client-sts, S3 at
// /drive with @aws-sdk/client-s3 (defaults), and the web UI's JSON API with the session cookie.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3"
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts"
import { Authenticator } from "@aquifer/identity"
import { layer as databaseLayer, layerAuditLog } from "@aquifer/metadata-postgres"
import { Effect, Layer, Redacted } from "effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { freePort } from "../../../scripts/testing/ports.ts"
import { captureLog, testConfig } from "../_test_support.ts"
import { appStoreTestLayer } from "../appstore/testing.ts"
import { addTestUser, identityTestLayer, signInAs } from "../identity/testing.ts"
import { type RunningServer, startServer } from "../server.ts"
import { driveTestLayer } from "./testing.ts"

let server: RunningServer
let origin: string
let root: string

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "aquifer-drive-allinone-"))
  const port = await freePort()
  origin = `http://127.0.0.1:${port}`
  const identity = identityTestLayer(port)
  server = await startServer({
    config: testConfig({ port }),
    log: captureLog().log,
    layer: Layer.mergeAll(
      layerAuditLog,
      identity,
      appStoreTestLayer(port).pipe(Layer.provide(layerAuditLog)),
      driveTestLayer(root).pipe(Layer.provide(identity))
    ).pipe(Layer.provideMerge(databaseLayer({})))
  })
}, 60_000)
afterAll(async () => {
  await server?.shutdown()
  if (root !== undefined) rmSync(root, { recursive: true, force: true })
})

const signIn = async (username: string) => {
  const password = await addTestUser(server.runtime, { username, roles: ["full"], email: `${username}@example.test` })
  const { browser } = await signInAs(origin, username, password)
  const secret = [...browser.cookies.values()].find((c) => c.name === "aquifer_session")!.value
  const token = await server.runtime.runPromise(Effect.gen(function*() {
    const resolved = yield* (yield* Authenticator).resolveSession(secret)
    return Redacted.value(resolved.accessToken!)
  }))
  return { browser, token }
}

describe("the Drive in the all-in-one", () => {
  it("exchanges a signed-in user's token at /drive and serves S3 there with the SDK's defaults", async () => {
    const { token } = await signIn("erin")
    const sts = new STSClient({ endpoint: `${origin}/drive`, region: "us-east-1", maxAttempts: 1 })
    const assumed = await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: "arn:aws:iam::aquifer:role/drive", RoleSessionName: "erin", WebIdentityToken: token }))
    sts.destroy()
    const c = assumed.Credentials!
    const s3 = new S3Client({
      endpoint: `${origin}/drive`,
      region: "us-east-1",
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! }
    })
    const home = (await s3.send(new ListBucketsCommand({}))).Buckets![0]!.Name!
    assert.match(home, /^erin-[0-9a-f]{8}$/)
    await s3.send(new PutObjectCommand({ Bucket: home, Key: "notes/hello.txt", Body: "hello from the all-in-one" }))
    const got = await s3.send(new GetObjectCommand({ Bucket: home, Key: "notes/hello.txt" }))
    assert.strictEqual(await got.Body!.transformToString(), "hello from the all-in-one")
    s3.destroy()
    const unsigned = await fetch(`${origin}/drive/${home}/notes/hello.txt`)
    assert.strictEqual(unsigned.status, 403)
    assert.include(await unsigned.text(), "<Code>AccessDenied</Code>")
  }, 60_000)

  it("serves the web UI's JSON API with the session cookie: list, upload, download, share, delete", async () => {
    const { browser } = await signIn("frank")
    const { browser: other } = await signIn("grace")
    const same = { origin }
    const buckets = await browser.request(`${origin}/api/v1/drive/buckets`)
    assert.strictEqual(buckets.status, 200)
    const home = ((await buckets.json()) as { items: Array<{ name: string; home: boolean; access: string }> }).items[0]!
    assert.isTrue(home.home)
    assert.strictEqual(home.access, "owner")
    const upload = await browser.request(`${origin}/api/v1/drive/buckets/${home.name}/objects/docs/plan%20v1.txt`, {
      method: "PUT",
      headers: { ...same, "content-type": "text/plain" },
      body: "the plan"
    })
    assert.strictEqual(upload.status, 201, await upload.clone().text())
    const forged = await browser.request(`${origin}/api/v1/drive/buckets/${home.name}/objects/x.txt`, {
      method: "PUT",
      headers: { origin: "http://evil.example" },
      body: "csrf"
    })
    assert.strictEqual(forged.status, 403)
    await forged.body?.cancel()
    const listing = (await (await browser.request(`${origin}/api/v1/drive/buckets/${home.name}/objects?prefix=docs/`)).json()) as { items: Array<{ key: string; size: number }> }
    assert.deepStrictEqual(listing.items.map((i) => [i.key, i.size]), [["docs/plan v1.txt", 8]])
    const download = await browser.request(`${origin}/api/v1/drive/buckets/${home.name}/objects/docs/plan%20v1.txt`)
    assert.strictEqual(await download.text(), "the plan")
    assert.match(download.headers.get("content-disposition") ?? "", /attachment/)
    const denied = await other.request(`${origin}/api/v1/drive/buckets/${home.name}/objects/docs/plan%20v1.txt`)
    assert.strictEqual(denied.status, 403)
    await denied.body?.cancel()
    const graceKey = (await (await other.request(`${origin}/api/v1/me`)).json()) as { issuer: string; subject: string }
    const share = await browser.request(`${origin}/api/v1/drive/buckets/${home.name}/members`, {
      method: "PUT",
      headers: { ...same, "content-type": "application/json" },
      body: JSON.stringify({ members: [{ kind: "user", id: `${graceKey.issuer}#${graceKey.subject}`, access: "read" }] })
    })
    assert.strictEqual(share.status, 200, await share.clone().text())
    const shared = await other.request(`${origin}/api/v1/drive/buckets/${home.name}/objects/docs/plan%20v1.txt`)
    assert.strictEqual(await shared.text(), "the plan")
    const removed = await browser.request(`${origin}/api/v1/drive/buckets/${home.name}/objects/docs/plan%20v1.txt`, { method: "DELETE", headers: same })
    assert.strictEqual(removed.status, 204)
    const anonymous = await fetch(`${origin}/api/v1/drive/buckets`)
    assert.strictEqual(anonymous.status, 401)
  }, 60_000)

  it("revokes the signed-in user's temporary credentials through the JSON API, with the session cookie", async () => {
    const { browser, token } = await signIn("ivan")
    const assume = async () => {
      const sts = new STSClient({ endpoint: `${origin}/drive`, region: "us-east-1", maxAttempts: 1 })
      const c = (await sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: "arn:aws:iam::aquifer:role/drive", RoleSessionName: "ivan", WebIdentityToken: token }))).Credentials!
      sts.destroy()
      return new S3Client({
        endpoint: `${origin}/drive`,
        region: "us-east-1",
        forcePathStyle: true,
        maxAttempts: 1,
        credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! }
      })
    }
    const outcome = (s3: S3Client) => s3.send(new ListBucketsCommand({})).then(() => "ok", (error: Error) => error.name)
    const before = await assume()
    assert.strictEqual(await outcome(before), "ok")
    const forged = await browser.request(`${origin}/api/v1/drive/temporary-credentials`, { method: "DELETE", headers: { origin: "http://evil.example" } })
    assert.strictEqual(forged.status, 403)
    await forged.body?.cancel()
    assert.strictEqual(await outcome(before), "ok", "a cross-site request revokes nothing")
    const revoked = await browser.request(`${origin}/api/v1/drive/temporary-credentials`, { method: "DELETE", headers: { origin } })
    assert.strictEqual(revoked.status, 200, await revoked.clone().text())
    const { revokedBefore } = (await revoked.json()) as { revokedBefore: string }
    assert.isFalse(Number.isNaN(Date.parse(revokedBefore)))
    assert.strictEqual(await outcome(before), "InvalidToken")
    const after = await assume()
    assert.strictEqual(await outcome(after), "ok")
    const state = (await (await browser.request(`${origin}/api/v1/drive/temporary-credentials`)).json()) as { revokedBefore: string }
    assert.strictEqual(state.revokedBefore, revokedBefore)
    before.destroy()
    after.destroy()
  }, 60_000)

  it("creates a long-lived access key through the JSON API that S3 clients use until it is revoked", async () => {
    const { browser } = await signIn("heidi")
    const created = await browser.request(`${origin}/api/v1/drive/access-keys`, {
      method: "POST",
      headers: { origin, "content-type": "application/json" },
      body: JSON.stringify({ description: "laptop" })
    })
    assert.strictEqual(created.status, 201)
    const key = (await created.json()) as { id: string; secretAccessKey: string }
    const listed = await (await browser.request(`${origin}/api/v1/drive/access-keys`)).text()
    assert.include(listed, key.id)
    assert.notInclude(listed, key.secretAccessKey)
    const s3 = new S3Client({
      endpoint: `${origin}/drive`,
      region: "us-east-1",
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: key.id, secretAccessKey: key.secretAccessKey }
    })
    const home = (await s3.send(new ListBucketsCommand({}))).Buckets![0]!.Name!
    assert.match(home, /^heidi-/)
    const revoked = await browser.request(`${origin}/api/v1/drive/access-keys/${key.id}`, { method: "DELETE", headers: { origin } })
    assert.strictEqual(revoked.status, 204)
    const refused = await s3.send(new ListBucketsCommand({})).then(() => "ok", (error: Error) => error.name)
    assert.strictEqual(refused, "InvalidAccessKeyId")
    s3.destroy()
  }, 60_000)
})
