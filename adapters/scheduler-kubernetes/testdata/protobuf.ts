// Just enough of the Kubernetes protobuf wire format for the test double to read what client-go
// (in the Helm CLI) sends as protobuf: the `k8s\0` envelope (runtime.Unknown) around a v1.Secret.
type Field = { readonly number: number; readonly wire: number; readonly value: bigint | Uint8Array }

const fields = (bytes: Uint8Array): Array<Field> => {
  const out: Array<Field> = []
  let at = 0
  const varint = (): bigint => {
    let result = 0n
    let shift = 0n
    while (true) {
      const byte = bytes[at++]!
      result |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) return result
      shift += 7n
    }
  }
  while (at < bytes.length) {
    const key = Number(varint())
    const wire = key & 7
    const number = key >>> 3
    if (wire === 0) out.push({ number, wire, value: varint() })
    else if (wire === 2) {
      const length = Number(varint())
      out.push({ number, wire, value: bytes.subarray(at, at + length) })
      at += length
    } else if (wire === 1) at += 8
    else if (wire === 5) at += 4
    else throw new Error(`unsupported protobuf wire type ${wire}`)
  }
  return out
}

const text = (value: bigint | Uint8Array) => Buffer.from(value as Uint8Array).toString("utf8")

const map = (entries: Array<Field>, asBase64: boolean): Record<string, string> | undefined => {
  if (entries.length === 0) return undefined
  const out: Record<string, string> = {}
  for (const entry of entries) {
    const parts = fields(entry.value as Uint8Array)
    const key = parts.find((p) => p.number === 1)
    const value = parts.find((p) => p.number === 2)
    const bytes = value === undefined ? new Uint8Array() : (value.value as Uint8Array)
    out[key === undefined ? "" : text(key.value)] = asBase64 ? Buffer.from(bytes).toString("base64") : Buffer.from(bytes).toString("utf8")
  }
  return out
}

const objectMeta = (bytes: Uint8Array): Record<string, unknown> => {
  const parts = fields(bytes)
  const str = (n: number) => {
    const field = parts.find((p) => p.number === n)
    return field === undefined ? undefined : text(field.value)
  }
  return Object.fromEntries(Object.entries({
    name: str(1),
    generateName: str(2),
    namespace: str(3),
    resourceVersion: str(6),
    labels: map(parts.filter((p) => p.number === 11), false),
    annotations: map(parts.filter((p) => p.number === 12), false)
  }).filter(([, v]) => v !== undefined && v !== ""))
}

/** Decodes a protobuf-encoded v1.Secret (with its `k8s\0` envelope) into its JSON form. */
export const decodeSecret = (body: Uint8Array): Record<string, unknown> => {
  if (Buffer.from(body.subarray(0, 4)).toString("latin1") !== "k8s\0") throw new Error("not a Kubernetes protobuf envelope")
  const raw = fields(body.subarray(4)).find((f) => f.number === 2)
  if (raw === undefined) throw new Error("empty protobuf envelope")
  const parts = fields(raw.value as Uint8Array)
  const meta = parts.find((p) => p.number === 1)
  const type = parts.find((p) => p.number === 3)
  const immutable = parts.find((p) => p.number === 5)
  return Object.fromEntries(Object.entries({
    apiVersion: "v1",
    kind: "Secret",
    metadata: meta === undefined ? {} : objectMeta(meta.value as Uint8Array),
    data: map(parts.filter((p) => p.number === 2), true),
    stringData: map(parts.filter((p) => p.number === 4), false),
    type: type === undefined ? undefined : text(type.value),
    immutable: immutable === undefined ? undefined : immutable.value === 1n
  }).filter(([, v]) => v !== undefined))
}
