// S3 servers the tests start on 127.0.0.1 and stop: s3rver (in process) and moto (a Python
// process from a virtualenv made by scripts/testing/venv.ts).
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import S3rver from "s3rver"
import { freePort, waitForHttp } from "../../scripts/testing/ports.ts"
import { ensureVenv } from "../../scripts/testing/venv.ts"

export interface Server {
  readonly endpoint: string
  readonly close: () => Promise<void>
}

export const motoRequirements = ["moto[server]==5.2.6"]

export const startS3rver = async (bucket: string): Promise<Server> => {
  const directory = mkdtempSync(join(tmpdir(), "aquifer-s3rver-"))
  const port = await freePort()
  const server = new S3rver({ address: "127.0.0.1", port, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] })
  await server.run()
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      await server.close()
      rmSync(directory, { recursive: true, force: true })
    }
  }
}

export const startMoto = async (bucket: string): Promise<Server> => {
  const venv = await ensureVenv("moto", motoRequirements)
  const port = await freePort()
  const child: ChildProcess = spawn(venv.bin("moto_server"), ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: "true" }
  })
  let stderr = ""
  child.stderr?.on("data", (data: Buffer) => {
    stderr = (stderr + data.toString()).slice(-4000)
  })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const endpoint = `http://127.0.0.1:${port}`
  try {
    await waitForHttp(`${endpoint}/moto-api/`, 60_000)
  } catch (error) {
    child.kill("SIGKILL")
    throw new Error(`moto did not start: ${stderr}`, { cause: error })
  }
  const client = new S3Client({ region: "us-east-1", endpoint, forcePathStyle: true, credentials: { accessKeyId: "test", secretAccessKey: "test" } })
  await client.send(new CreateBucketCommand({ Bucket: bucket }))
  client.destroy()
  return {
    endpoint,
    close: async () => {
      child.kill("SIGTERM")
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000)
      await exited
      clearTimeout(timer)
    }
  }
}

export const memoryUsage = (): number => {
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.external
}
