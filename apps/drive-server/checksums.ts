// The checksums S3 clients send (`x-amz-checksum-*` headers and aws-chunked trailers, plus
// Content-MD5), computed incrementally over a streamed body: CRC32 by zlib, CRC32C and
// CRC64/NVME by the AWS SDK's own implementations, the SHA and MD5 family by node:crypto.
import { createHash, type Hash } from "node:crypto"
import { crc32 as zlibCrc32 } from "node:zlib"
import { Crc32c } from "@aws-crypto/crc32c"
import { Crc64Nvme } from "@aws-sdk/crc64-nvme"

/** The algorithms S3 names in `x-amz-checksum-<algorithm>` and `x-amz-sdk-checksum-algorithm`. */
export const checksumAlgorithms = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"] as const
export type ChecksumAlgorithm = (typeof checksumAlgorithms)[number]

export const isChecksumAlgorithm = (name: string): name is ChecksumAlgorithm =>
  (checksumAlgorithms as ReadonlyArray<string>).includes(name)

/** An incremental checksum whose result is base64, as S3 transmits it. */
export interface Checksum {
  update(bytes: Uint8Array): void
  digestBase64(): Promise<string>
}

const crc32c = (): Checksum => {
  const crc = new Crc32c()
  return {
    update: (bytes) => void crc.update(bytes),
    digestBase64: async () => {
      const out = Buffer.alloc(4)
      out.writeUInt32BE(crc.digest() >>> 0)
      return out.toString("base64")
    }
  }
}

const crc64nvme = (): Checksum => {
  const crc = new Crc64Nvme()
  return {
    update: (bytes) => crc.update(bytes),
    digestBase64: async () => Buffer.from(await crc.digest()).toString("base64")
  }
}

const crc32 = (): Checksum => {
  let crc = 0
  return {
    update(bytes) {
      crc = zlibCrc32(bytes, crc)
    },
    digestBase64: async () => {
      const out = Buffer.alloc(4)
      out.writeUInt32BE(crc >>> 0)
      return out.toString("base64")
    }
  }
}

const hashed = (algorithm: string): Checksum => {
  const hash: Hash = createHash(algorithm)
  return {
    update: (bytes) => void hash.update(bytes),
    digestBase64: async () => hash.digest("base64")
  }
}

/** A fresh incremental checksum of `algorithm`. */
export const makeChecksum = (algorithm: ChecksumAlgorithm | "md5"): Checksum => {
  switch (algorithm) {
    case "crc32":
      return crc32()
    case "crc32c":
      return crc32c()
    case "crc64nvme":
      return crc64nvme()
    case "sha1":
      return hashed("sha1")
    case "sha256":
      return hashed("sha256")
    case "md5":
      return hashed("md5")
  }
}
