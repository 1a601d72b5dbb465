// Shared by this app's tests: a real Drive server on 127.0.0.1 (blob-fs in a temp dir, embedded
// PGlite in memory), principals with long-lived access keys, and SDK clients for them.
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { S3Client, S3ServiceException } from "@aws-sdk/client-s3"
import { layer as blobFs } from "@aquifer/blob-fs"
import { Principal } from "@aquifer/core"
import { createAccessKey, type DriveSettingsShape, layerNoWebIdentity, type WebIdentityVerifier } from "@aquifer/drive"
import { layer as databaseLayer } from "@aquifer/metadata-postgres"
import type { Layer } from "effect"
import { driveLayer } from "./layers.ts"
import { type RunningDrive, startDriveServer } from "./server.ts"

export const region = "us-east-1"

export const principalOf = (subject: string, roles: Array<"admin" | "full" | "visitor"> = ["full"], groups: Array<string> = []) =>
  Principal.make({ issuer: "https://issuer.test", subject, name: subject, email: `${subject}@example.test`, groups, roles })

export interface Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string | undefined
}

export interface TestDrive extends RunningDrive {
  readonly root: string
  readonly keyFor: (principal: Principal) => Promise<Credentials>
  readonly client: (credentials: Credentials, extra?: Record<string, unknown>) => S3Client
  readonly stop: () => Promise<void>
}

export const startTestDrive = async (
  options: {
    readonly settings?: DriveSettingsShape
    readonly verifier?: Layer.Layer<WebIdentityVerifier, unknown>
    readonly root?: string
    /** With it, `<bucket>.<virtualHostDomain>` hosts address buckets (virtual-host style). */
    readonly virtualHostDomain?: string
  } = {}
): Promise<TestDrive> => {
  const root = options.root ?? mkdtempSync(join(tmpdir(), "aquifer-drive-"))
  const drive = await startDriveServer({
    layer: driveLayer({
      blobs: blobFs({ root: join(root, "blobs") }),
      database: databaseLayer({}),
      verifier: options.verifier ?? layerNoWebIdentity,
      serverKey: new Uint8Array(randomBytes(32)),
      settings: options.settings
    }),
    s3: { region, virtualHostDomain: options.virtualHostDomain }
  })
  const clients: Array<S3Client> = []
  return {
    ...drive,
    root,
    keyFor: async (principal) => {
      const created = await drive.runtime.runPromise(createAccessKey({ principal }, "test"))
      return { accessKeyId: created.id, secretAccessKey: created.secretAccessKey }
    },
    client: (credentials, extra = {}) => {
      const client = new S3Client({ endpoint: drive.url, region, forcePathStyle: true, credentials, maxAttempts: 1, ...extra })
      clients.push(client)
      return client
    },
    stop: async () => {
      for (const client of clients) client.destroy()
      await drive.shutdown()
      if (options.root === undefined) rmSync(root, { recursive: true, force: true })
    }
  }
}

/** Deterministic pseudo-random bytes (fast; not for secrets). */
export const bytesOf = (size: number, seed = 1): Buffer => {
  const out = Buffer.allocUnsafe(size)
  let x = seed >>> 0 || 1
  let i = 0
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out.writeUInt32LE(x >>> 0, i)
  }
  for (; i < size; i++) out[i] = i & 0xff
  return out
}

export const sha256 = async (data: Uint8Array | AsyncIterable<Uint8Array>): Promise<string> => {
  const { createHash } = await import("node:crypto")
  const hash = createHash("sha256")
  if (data instanceof Uint8Array) hash.update(data)
  else for await (const chunk of data) hash.update(chunk)
  return hash.digest("hex")
}

/** The S3 error a request fails with; throws when it succeeds or fails otherwise. */
export const failure = async (promise: Promise<unknown>): Promise<S3ServiceException> => {
  try {
    await promise
  } catch (error) {
    if (error instanceof S3ServiceException) return error
    throw error
  }
  throw new Error("expected the request to fail")
}
