// Helpers of the conformance kit: assertions (the kit may not import a test framework, see
// testing.ts), deterministic byte patterns, and streams with controllable pacing.
import { Effect, Exit } from "effect"

export class KitAssertionError extends Error {
  override readonly name = "KitAssertionError"
}

export const fail = (message: string): never => {
  throw new KitAssertionError(message)
}

export const isTrue = (condition: boolean, message: string): void => {
  if (!condition) fail(message)
}

const show = (value: unknown): string => {
  try {
    return JSON.stringify(value, (_, v: unknown) => (v instanceof Uint8Array ? `<${v.byteLength} bytes>` : v))
  } catch {
    return String(value)
  }
}

export const equal = <A>(actual: A, expected: A, what: string): void => {
  if (!Object.is(actual, expected)) fail(`${what}: expected ${show(expected)}, got ${show(actual)}`)
}

export const deepEqual = (actual: unknown, expected: unknown, what: string): void => {
  if (show(actual) !== show(expected)) fail(`${what}: expected ${show(expected)}, got ${show(actual)}`)
}

export const sameBytes = (actual: Uint8Array, expected: Uint8Array, what: string): void => {
  if (actual.byteLength !== expected.byteLength) fail(`${what}: expected ${expected.byteLength} bytes, got ${actual.byteLength}`)
  for (let i = 0; i < actual.byteLength; i++) {
    if (actual[i] !== expected[i]) fail(`${what}: bytes differ at offset ${i}`)
  }
}

/** Runs `effect` and checks it fails with `tag`; returns the error for further checks. */
export const failsWith = <A, E, R>(effect: Effect.Effect<A, E, R>, tag: string, what: string) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(effect)
    if (Exit.isSuccess(exit)) return fail(`${what}: expected ${tag}, but it succeeded`)
    const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")
    const tagOf = (value: unknown) =>
      typeof value === "object" && value !== null && "_tag" in value ? String((value as { _tag: unknown })._tag) : String(value)
    if (error === undefined || error._tag !== "Fail") return fail(`${what}: expected ${tag}, got a defect or interruption: ${String(exit.cause)}`)
    if (tagOf(error.error) !== tag) return fail(`${what}: expected ${tag}, got ${tagOf(error.error)}: ${String((error.error as Error)?.message)}`)
    return error.error as E
  })

export const text = (value: string): Uint8Array => new TextEncoder().encode(value)

/** `size` bytes of a pattern determined by `seed`, so writers and checks agree without sharing buffers. */
export const pattern = (seed: number, size: number, start = 0): Uint8Array => {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = ((start + i) * 31 + seed * 97 + ((start + i) >> 8)) & 0xff
  return bytes
}

/** A fast deterministic 1 MiB-aligned pseudo-random block (xorshift32), for large objects. */
export const block = (seed: number, index: number, size: number): Uint8Array => {
  const bytes = new Uint8Array(size)
  const words = new Uint32Array(bytes.buffer, 0, size >>> 2)
  let x = (seed * 0x9e3779b1 + index * 0x85ebca6b + 1) >>> 0 || 1
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    words[i] = x
  }
  for (let i = words.length << 2; i < size; i++) bytes[i] = i & 0xff
  return bytes
}

/** A ReadableStream of `chunks`, one per pull. */
export const streamOf = (chunks: ReadonlyArray<Uint8Array>): ReadableStream<Uint8Array> => {
  let index = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (index < chunks.length) controller.enqueue(chunks[index++]!.slice())
      else controller.close()
    }
  }, { highWaterMark: 0 })
}

/** Splits `bytes` into chunks of `size`. */
export const split = (bytes: Uint8Array, size: number): Array<Uint8Array> => {
  const chunks: Array<Uint8Array> = []
  for (let offset = 0; offset < bytes.byteLength; offset += size) chunks.push(bytes.subarray(offset, offset + size))
  return chunks
}

export const readAll = (stream: ReadableStream<Uint8Array>): Effect.Effect<Uint8Array> =>
  Effect.promise(async () => {
    const reader = stream.getReader()
    const chunks: Array<Uint8Array> = []
    let size = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (!(value instanceof Uint8Array)) fail("a body chunk is not a Uint8Array")
      chunks.push(value)
      size += value.byteLength
    }
    const bytes = new Uint8Array(size)
    let offset = 0
    for (const chunk of chunks) {
      bytes.set(chunk, offset)
      offset += chunk.byteLength
    }
    return bytes
  })

/** A promise with its resolve function, for pacing streams from a test. */
export const gate = () => {
  let open!: () => void
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { open, opened }
}

/** Lets timers and I/O run (a macrotask turn), so concurrent writers interleave. */
export const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))
