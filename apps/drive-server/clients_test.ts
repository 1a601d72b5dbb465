// Outside clients written by others, with their defaults, against a real Drive server:
// Debian's awscli (`/usr/bin/aws`, not a pyenv one that may shadow it on PATH), Debian's rclone,
// and the newest boto3 from PyPI (in a venv). Every round trip must be byte-identical.
import { execFile } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { promisify } from "node:util"
import { CreateBucketCommand } from "@aws-sdk/client-s3"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { ensureVenv } from "../../scripts/testing/venv.ts"
import { bytesOf, type Credentials, principalOf, startTestDrive, type TestDrive } from "./_test_support.ts"

const run = promisify(execFile)
const awsCli = "/usr/bin/aws"
const rclone = "/usr/bin/rclone"
const inCi = process.env.CI === "true"
const missing = [awsCli, rclone].filter((bin) => !existsSync(bin))
if (missing.length > 0) {
  if (inCi) throw new Error(`CI=true but ${missing.join(", ")} is missing (apt-get install awscli rclone)`)
  process.stderr.write(`SKIPPING tests of ${missing.join(", ")}: not installed (apt-get install awscli rclone)\n`)
}

let drive: TestDrive
let alice: Credentials
let work: string
const bucket = "alice-tools"

const files = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]))
const digestOf = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex")
const tree = (dir: string) => Object.fromEntries(files(dir).map((f) => [relative(dir, f), digestOf(f)]))

const sampleTree = (dir: string) => {
  mkdirSync(join(dir, "nested", "deeper"), { recursive: true })
  writeFileSync(join(dir, "small.txt"), "hello drive\n")
  writeFileSync(join(dir, "empty.bin"), "")
  writeFileSync(join(dir, "nested", "ünïcødé name.bin"), bytesOf(100_003, 4))
  writeFileSync(join(dir, "nested", "deeper", "big.bin"), bytesOf(20 * 1024 * 1024 + 11, 5))
}

beforeAll(async () => {
  drive = await startTestDrive()
  alice = await drive.keyFor(principalOf("alice"))
  await drive.client(alice).send(new CreateBucketCommand({ Bucket: bucket }))
  work = mkdtempSync(join(tmpdir(), "aquifer-drive-clients-"))
})
afterAll(async () => {
  await drive?.stop()
  if (work !== undefined) rmSync(work, { recursive: true, force: true })
})

describe.skipIf(missing.length > 0)("awscli (Debian's /usr/bin/aws)", () => {
  it("cp, sync, ls and rm round-trip byte-identical", async () => {
    const home = join(work, "aws-home")
    mkdirSync(home, { recursive: true })
    writeFileSync(join(home, "config"), "[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n")
    const env = {
      PATH: "/usr/bin:/bin",
      HOME: home,
      AWS_CONFIG_FILE: join(home, "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(home, "credentials"),
      AWS_ACCESS_KEY_ID: alice.accessKeyId,
      AWS_SECRET_ACCESS_KEY: alice.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_PAGER: ""
    }
    const aws = (...args: Array<string>) => run(awsCli, ["--endpoint-url", drive.url, ...args], { env, maxBuffer: 16 * 1024 * 1024 })
    const source = join(work, "aws-source")
    sampleTree(source)
    await aws("s3", "cp", join(source, "small.txt"), `s3://${bucket}/aws/single/small.txt`)
    await aws("s3", "cp", join(source, "nested", "deeper", "big.bin"), `s3://${bucket}/aws/single/big.bin`)
    await aws("s3", "cp", `s3://${bucket}/aws/single/big.bin`, join(work, "aws-big.back"))
    assert.strictEqual(digestOf(join(work, "aws-big.back")), digestOf(join(source, "nested", "deeper", "big.bin")))
    await aws("s3", "sync", source, `s3://${bucket}/aws/tree/`)
    const listing = (await aws("s3", "ls", `s3://${bucket}/aws/tree/`, "--recursive")).stdout
    for (const name of ["small.txt", "empty.bin", "nested/ünïcødé name.bin", "nested/deeper/big.bin"]) assert.include(listing, `aws/tree/${name}`)
    const back = join(work, "aws-back")
    await aws("s3", "sync", `s3://${bucket}/aws/tree/`, back)
    assert.deepStrictEqual(tree(back), tree(source))
    const again = (await aws("s3", "sync", source, `s3://${bucket}/aws/tree/`)).stdout
    assert.strictEqual(again.trim(), "", "a second sync uploads nothing")
    await aws("s3", "rm", `s3://${bucket}/aws/`, "--recursive")
    assert.strictEqual((await aws("s3", "ls", `s3://${bucket}/aws/`, "--recursive").catch((e: { stdout: string }) => e)).stdout.trim(), "")
  })
})

describe.skipIf(missing.length > 0)("rclone (Debian's)", () => {
  it("copy, lsf and check round-trip byte-identical", async () => {
    const env = {
      PATH: "/usr/bin:/bin",
      HOME: join(work, "rclone-home"),
      RCLONE_CONFIG: join(work, "rclone-home", "none.conf"),
      RCLONE_CONFIG_DRIVE_TYPE: "s3",
      RCLONE_CONFIG_DRIVE_PROVIDER: "Other",
      RCLONE_CONFIG_DRIVE_ACCESS_KEY_ID: alice.accessKeyId,
      RCLONE_CONFIG_DRIVE_SECRET_ACCESS_KEY: alice.secretAccessKey,
      RCLONE_CONFIG_DRIVE_ENDPOINT: drive.url,
      RCLONE_CONFIG_DRIVE_REGION: "us-east-1",
      RCLONE_CONFIG_DRIVE_FORCE_PATH_STYLE: "true"
    }
    mkdirSync(env.HOME, { recursive: true })
    const rc = (...args: Array<string>) => run(rclone, ["--retries", "1", "--low-level-retries", "1", ...args], { env, maxBuffer: 16 * 1024 * 1024 })
    const source = join(work, "rclone-source")
    sampleTree(source)
    await rc("copy", source, `drive:${bucket}/rclone`)
    const listed = (await rc("lsf", "-R", "--files-only", `drive:${bucket}/rclone`)).stdout.trim().split("\n").sort()
    assert.deepStrictEqual(listed, ["empty.bin", "nested/deeper/big.bin", "nested/ünïcødé name.bin", "small.txt"])
    await rc("check", source, `drive:${bucket}/rclone`)
    await rc("check", "--download", source, `drive:${bucket}/rclone`)
    const back = join(work, "rclone-back")
    await rc("copy", `drive:${bucket}/rclone`, back)
    assert.deepStrictEqual(tree(back), tree(source))
    await rc("purge", `drive:${bucket}/rclone`)
    assert.strictEqual((await rc("lsf", "-R", `drive:${bucket}/rclone`).catch((e: { stdout: string }) => e)).stdout.trim(), "")
  })
})

describe("boto3 (newest from PyPI, defaults)", () => {
  it("put, get, multipart upload and download, copy, list, range and delete round-trip", async () => {
    const venv = await ensureVenv("boto3", ["boto3==1.44.18"])
    const dir = join(work, "boto3")
    mkdirSync(dir, { recursive: true })
    const { stdout } = await run(venv.bin("python"), [join(import.meta.dirname, "testdata", "boto3_client.py")], {
      env: {
        PATH: "/usr/bin:/bin",
        HOME: dir,
        AWS_CONFIG_FILE: join(dir, "none"),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_ACCESS_KEY_ID: alice.accessKeyId,
        AWS_SECRET_ACCESS_KEY: alice.secretAccessKey,
        DRIVE_ENDPOINT: drive.url,
        DRIVE_BUCKET: bucket,
        DRIVE_WORKDIR: dir
      },
      maxBuffer: 4 * 1024 * 1024
    })
    const result = JSON.parse(stdout) as Record<string, unknown>
    assert.strictEqual(result.boto3, "1.44.18")
    assert.include(result.buckets as Array<string>, bucket)
    assert.isTrue(result.small_equal)
    assert.deepStrictEqual(result.small_metadata, { source: "boto3" })
    assert.isTrue(result.big_equal)
    assert.isTrue(result.range_equal)
    assert.deepStrictEqual(result.listed, ["boto3/big.bin", "boto3/copy.bin", "boto3/small.bin"])
    assert.deepStrictEqual(result.deleted, result.listed)
    assert.strictEqual(result.left, 0)
    assert.strictEqual(result.missing_error, "NoSuchKey")
  })
})
