// The checksums S3 clients send (`x-amz-checksum-*` headers and aws-chunked trailers, plus
// Content-MD5), computed incrementally over a streamed body.
import { createHash, type Hash } from "node:crypto"
import { crc32 as zlibCrc32 } from "node:zlib"

/** The algorithms S3 names in `x-amz-checksum-<algorithm>` and `x-amz-sdk-checksum-algorithm`. */
export const checksumAlgorithms = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"] as const
export type ChecksumAlgorithm = (typeof checksumAlgorithms)[number]

export const isChecksumAlgorithm = (name: string): name is ChecksumAlgorithm =>
  (checksumAlgorithms as ReadonlyArray<string>).includes(name)

/** An incremental checksum whose result is base64, as S3 transmits it. */
export interface Checksum {
  update(bytes: Uint8Array): void
  digestBase64(): string
}

const crc32cTable = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256))
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
    tables[0]![n] = c >>> 0
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[0]![n]!
    for (let t = 1; t < 8; t++) {
      c = tables[0]![c & 0xff]! ^ (c >>> 8)
      tables[t]![n] = c >>> 0
    }
  }
  return tables
})()

const crc32c = (): Checksum => {
  let crc = 0xffffffff
  const [t0, t1, t2, t3, t4, t5, t6, t7] = crc32cTable as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array]
  return {
    update(bytes) {
      let i = 0
      const end8 = bytes.length - (bytes.length % 8)
      for (; i < end8; i += 8) {
        const lo = (crc ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0
        crc = t7[lo & 0xff]! ^ t6[(lo >>> 8) & 0xff]! ^ t5[(lo >>> 16) & 0xff]! ^ t4[lo >>> 24]! ^
          t3[bytes[i + 4]!]! ^ t2[bytes[i + 5]!]! ^ t1[bytes[i + 6]!]! ^ t0[bytes[i + 7]!]!
      }
      for (; i < bytes.length; i++) crc = t0[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)
    },
    digestBase64() {
      const out = Buffer.alloc(4)
      out.writeUInt32BE((crc ^ 0xffffffff) >>> 0)
      return out.toString("base64")
    }
  }
}

// CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5), kept as two 32-bit halves for speed.
const crc64Tables = (() => {
  const lo = new Uint32Array(256)
  const hi = new Uint32Array(256)
  const polyLo = 0xac4bc9b5
  const polyHi = 0x9a6c9329
  for (let n = 0; n < 256; n++) {
    let l = n
    let h = 0
    for (let k = 0; k < 8; k++) {
      const carry = l & 1
      l = ((l >>> 1) | ((h & 1) << 31)) >>> 0
      h = h >>> 1
      if (carry) {
        l = (l ^ polyLo) >>> 0
        h = (h ^ polyHi) >>> 0
      }
    }
    lo[n] = l
    hi[n] = h
  }
  return { lo, hi }
})()

const crc64nvme = (): Checksum => {
  let lo = 0xffffffff
  let hi = 0xffffffff
  const { lo: tlo, hi: thi } = crc64Tables
  return {
    update(bytes) {
      for (let i = 0; i < bytes.length; i++) {
        const index = (lo ^ bytes[i]!) & 0xff
        lo = (((lo >>> 8) | (hi << 24)) ^ tlo[index]!) >>> 0
        hi = ((hi >>> 8) ^ thi[index]!) >>> 0
      }
    },
    digestBase64() {
      const out = Buffer.alloc(8)
      out.writeUInt32BE((hi ^ 0xffffffff) >>> 0, 0)
      out.writeUInt32BE((lo ^ 0xffffffff) >>> 0, 4)
      return out.toString("base64")
    }
  }
}

const crc32 = (): Checksum => {
  let crc = 0
  return {
    update(bytes) {
      crc = zlibCrc32(bytes, crc)
    },
    digestBase64() {
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
    digestBase64: () => hash.digest("base64")
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
