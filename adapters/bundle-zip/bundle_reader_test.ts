import { assert, describe, it } from "@effect/vitest"
import { BundleReader, defaultBundleLimits } from "@aquifer/appstore"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { extractBundle, layer } from "./mod.ts"
import { appToml, jpeg, png, type TestEntry, zip } from "./testdata/zip_writer.ts"

const read = (archive: Buffer, limits = defaultBundleLimits) =>
  BundleReader.use((reader) => reader.read(archive, limits)).pipe(Effect.provide(layer))

const refused = (archive: Buffer, limits = defaultBundleLimits) =>
  Effect.map(Effect.flip(read(archive, limits)), (error) => {
    assert.strictEqual(error._tag, "InvalidBundle")
    return error
  })

const good: ReadonlyArray<TestEntry> = [
  { name: "app.toml", data: appToml(`\n[[Env]]\nName = "DB"\nSecret = "warehouse"\nSecretKey = "password"\n`, `Name = "demo-app"\nVersion = "1.0.0"\nLongDescription = "about.md"\nTags = ["finance"]\nInstanceTimeout = "2h"`) },
  { name: "app.py", data: "print('hi')\n", deflate: true },
  { name: "about.md", data: "# Demo\nLong text ✓\n" },
  { name: "requirements.txt", data: "h2o-wave==1.8.16\n" },
  { name: "static/", data: "" },
  { name: "static/icon.png", data: png },
  { name: "static/screenshot2.jpg", data: jpeg },
  { name: "static/screenshot1.png", data: png },
  { name: "lib/util.py", data: "x = 1\n".repeat(1000), deflate: true }
]

describe("BundleReader (zip)", () => {
  it.effect("reads a valid bundle: manifest, icon, screenshots in name order, long description, dependencies", () =>
    Effect.gen(function*() {
      const archive = zip(good)
      const bundle = yield* read(archive)
      assert.strictEqual(bundle.manifest.name, "demo-app")
      assert.strictEqual(bundle.manifest.instanceTimeoutMs, 7_200_000)
      assert.deepStrictEqual(bundle.manifest.env, [{ name: "DB", value: undefined, secret: "warehouse", secretKey: "password", optional: false }])
      assert.strictEqual(bundle.manifest.runtime?.appMode, "python")
      assert.strictEqual(bundle.icon?.contentType, "image/png")
      assert.deepStrictEqual(bundle.screenshots.map((s) => [s.path, s.contentType]), [["static/screenshot1.png", "image/png"], ["static/screenshot2.jpg", "image/jpeg"]])
      assert.strictEqual(bundle.longDescription, "# Demo\nLong text ✓\n")
      assert.strictEqual(bundle.requirements, "h2o-wave==1.8.16\n")
      assert.strictEqual(bundle.sha256, createHash("sha256").update(archive).digest("hex"))
      assert.includeMembers(bundle.entries.map((e) => e.path), ["app.py", "lib/util.py"])
    }))

  it.effect("refuses zip slip: parent paths, absolute paths, drive letters and backslashes", () =>
    Effect.gen(function*() {
      for (const name of ["../evil.py", "static/../../evil.py", "/etc/cron.d/evil", "C:/evil.py", "a\\..\\..\\evil.py", "./app.py"]) {
        const error = yield* refused(zip([...good, { name, data: "x" }]))
        assert.match(error.message, /(absolute|climbs|drive|backslash|invalid|"\."|relative)/, `${name}: ${error.message}`)
      }
    }))

  it.effect("refuses symbolic links, hard links and special files", () =>
    Effect.gen(function*() {
      const symlink = yield* refused(zip([...good, { name: "link", data: "/etc/passwd", mode: 0o120777 }]))
      assert.match(symlink.message, /symbolic link/)
      assert.strictEqual(symlink.field, "link")
      const asi = new Uint8Array(14 + "/etc/shadow".length)
      asi.set(new TextEncoder().encode("/etc/shadow"), 14)
      const hard = yield* refused(zip([...good, { name: "hard", data: "", extra: [{ id: 0x756e, data: asi }] }]))
      assert.match(hard.message, /is a link/)
      const pkware = new Uint8Array(12 + 5)
      const hard2 = yield* refused(zip([...good, { name: "hard2", data: "", extra: [{ id: 0x000d, data: pkware }] }]))
      assert.match(hard2.message, /is a link/)
      const fifo = yield* refused(zip([...good, { name: "fifo", data: "", mode: 0o010644 }]))
      assert.match(fifo.message, /special file/)
    }))

  it.effect("refuses zip bombs: per-entry and total inflated size, entry count, and headers that lie", () =>
    Effect.gen(function*() {
      const limits = { ...defaultBundleLimits, maxEntryBytes: 4 * 1024 * 1024, maxTotalBytes: 6 * 1024 * 1024, maxEntries: 50 }
      const zeros = new Uint8Array(16 * 1024 * 1024)
      const bomb = zip([...good, { name: "bomb.bin", data: zeros, deflate: true }])
      assert.isBelow(bomb.length, 100_000)
      assert.match((yield* refused(bomb, limits)).message, /inflates to 16777216 bytes; at most 4194304/)
      const spread = zip([...good, ...Array.from({ length: 3 }, (_, i) => ({ name: `part${i}.bin`, data: new Uint8Array(3 * 1024 * 1024), deflate: true }))])
      assert.match((yield* refused(spread, limits)).message, /inflates to more than 6291456 bytes/)
      const many = zip([...good, ...Array.from({ length: 60 }, (_, i) => ({ name: `f${i}.txt`, data: "x" }))])
      assert.match((yield* refused(many, limits)).message, /at most 50 are allowed/)
      const liar = zip([...good, { name: "liar.bin", data: new Uint8Array(1024 * 1024), deflate: true, declaredSize: 100 }])
      const lied = yield* refused(liar, limits)
      assert.match(lied.message, /liar\.bin/)
      assert.strictEqual((yield* refused(Buffer.alloc(10), { ...limits, maxBundleBytes: 5 })).message.includes("at most 5"), true)
    }))

  it.effect("refuses archives that are not zips, and a corrupt entry", () =>
    Effect.gen(function*() {
      assert.match((yield* refused(Buffer.from("PK\u0003\u0004 not really a zip"))).message, /not a readable zip/)
      const archive = zip(good)
      const corrupt = Buffer.from(archive)
      const md = corrupt.indexOf(Buffer.from("# Demo"))
      corrupt[md + 2] = corrupt[md + 2]! ^ 0xff
      assert.match((yield* refused(corrupt)).message, /CRC/)
    }))

  it.effect("names the app.toml problem: missing, nested, malformed TOML, unknown field, bad values", () =>
    Effect.gen(function*() {
      const without = good.filter((e) => e.name !== "app.toml")
      assert.match((yield* refused(zip(without))).message, /no app.toml at its root/)
      assert.match((yield* refused(zip([...without, { name: "demo/app.toml", data: appToml() }]))).message, /found demo\/app.toml/)
      const bad = (toml: string) => refused(zip([{ name: "app.toml", data: toml }]))
      const syntax = yield* bad(`[App]\nName = "x"\nVersion = 1.0.0.0\n`)
      assert.strictEqual(syntax.line, 3)
      const unknown = yield* bad(appToml(`Colour = "blue"\n`))
      assert.strictEqual(unknown.field, "Runtime.Colour")
      assert.strictEqual(unknown.line, 10)
      assert.match(unknown.message, /unknown field/)
      const table = yield* bad(appToml() + `\n[Extras]\nA = 1\n`)
      assert.strictEqual(table.field, "Extras")
      const name = yield* bad(appToml("", `Name = "-bad name"\nVersion = "1.0.0"`))
      assert.strictEqual(name.field, "App.Name")
      assert.strictEqual(name.line, 2)
      const long = yield* bad(appToml("", `Name = "${"a".repeat(60)}"\nVersion = "1.0.0"`))
      assert.strictEqual(long.field, "App.Version")
      assert.match(long.message, /name-version/)
      const version = yield* bad(appToml("", `Name = "ok"\nVersion = "1.0"`))
      assert.strictEqual(version.field, "App.Version")
      const port = yield* bad(appToml(`Port = "eighty"\n`))
      assert.strictEqual(port.field, "Runtime.Port")
      const env = yield* bad(appToml(`\n[[Env]]\nName = "A"\nValue = "1"\n\n[[Env]]\nName = "PORT"\nValue = "2"\n`))
      assert.strictEqual(env.field, "Env[1].Name")
      assert.strictEqual(env.line, 16)
      const both = yield* bad(appToml(`\n[[Env]]\nName = "A"\nValue = "1"\nSecret = "s"\nSecretKey = "k"\n`))
      assert.match(both.message, /exactly one of Value or Secret/)
      const lifecycle = yield* bad(appToml("", `Name = "ok"\nVersion = "1.0.0"\nInstanceLifecycle = "SOMETIMES"`))
      assert.strictEqual(lifecycle.field, "App.InstanceLifecycle")
    }))

  it.effect("accepts a LINK app with an address and refuses one with a runtime", () =>
    Effect.gen(function*() {
      const link = `[App]\nName = "docs"\nVersion = "1.0.0"\nInstanceLifecycle = "LINK"\n\n[Link]\nAddress = "https://docs.example.com"\n`
      const bundle = yield* read(zip([{ name: "app.toml", data: link }]))
      assert.strictEqual(bundle.manifest.linkAddress, "https://docs.example.com")
      assert.isUndefined(bundle.manifest.runtime)
      const withRuntime = yield* refused(zip([{ name: "app.toml", data: `${link}\n[Runtime]\nModule = "app"\n` }]))
      assert.strictEqual(withRuntime.field, "Runtime")
      assert.match(withRuntime.message, /LINK app has no \[Runtime\]/)
      const js = yield* refused(zip([{ name: "app.toml", data: link.replace("https://docs.example.com", "javascript:alert(1)") }]))
      assert.strictEqual(js.field, "Link.Address")
      const container = yield* refused(zip([{ name: "app.toml", data: appToml().replace(`AppMode = "python"`, `AppMode = "container"`) }]))
      assert.strictEqual(container.field, "Runtime.CustomImage")
    }))

  it.effect("refuses a spoofed image and a missing long description", () =>
    Effect.gen(function*() {
      const spoof = yield* refused(zip([...good.filter((e) => e.name !== "static/icon.png"), { name: "static/icon.png", data: "<svg/>" }]))
      assert.strictEqual(spoof.field, "static/icon.png")
      const missing = yield* refused(zip(good.filter((e) => e.name !== "about.md")))
      assert.strictEqual(missing.field, "App.LongDescription")
    }))
})

describe("extractBundle", () => {
  it("unpacks a valid bundle whole, and writes nothing for a hostile one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aquifer-extract-"))
    try {
      await extractBundle(zip(good), join(dir, "ok"))
      assert.strictEqual(readFileSync(join(dir, "ok", "lib", "util.py"), "utf8"), "x = 1\n".repeat(1000))
      assert.isTrue(statSync(join(dir, "ok", "static")).isDirectory())
      for (const hostile of [
        [...good, { name: "../escape.py", data: "x" }],
        [...good, { name: "link", data: "/etc/passwd", mode: 0o120777 }],
        [...good, { name: "liar.bin", data: new Uint8Array(100_000), deflate: true, declaredSize: 10 }]
      ]) {
        let failed = false
        await extractBundle(zip(hostile), join(dir, "bad")).catch(() => (failed = true))
        assert.isTrue(failed)
        assert.isFalse(existsSync(join(dir, "bad")))
        assert.isFalse(existsSync(join(dir, "escape.py")))
      }
      assert.deepStrictEqual(readdirSync(dir), ["ok"])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
