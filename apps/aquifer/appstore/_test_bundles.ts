// Bundles for the App Store's tests, built with the bundle reader's test zip writer.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { png, zip } from "../../../adapters/bundle-zip/testdata/zip_writer.ts"

const testdata = join(import.meta.dirname, "testdata")

/** A python-mode app (stdlib only: no pip) that echoes its env, headers and files as JSON. */
export const helloBundle = (name = "hello", version = "1.0.0", extraToml = "") =>
  zip([
    {
      name: "app.toml",
      data: `[App]\nName = "${name}"\nVersion = "${version}"\nTitle = "Hello"\nDescription = "Echoes what it gets"\nInstanceTimeout = "1h"\n\n` +
        `[Runtime]\nModule = "hello_app"\nAppMode = "python"\n${extraToml}\n` +
        `[[Env]]\nName = "GREETING"\nValue = "bonjour"\n\n` +
        `[[Env]]\nName = "DB_PASSWORD"\nSecret = "warehouse"\nSecretKey = "password"\n\n` +
        `[[File]]\nPath = "/etc/token"\nSecret = "warehouse"\nSecretKey = "token"\n\n` +
        `[[File]]\nPath = "/conf/settings.ini"\nValue = "[main]\\nmode = test\\n"\n`
    },
    { name: "hello_app.py", data: readFileSync(join(testdata, "hello_app.py")) },
    { name: "static/icon.png", data: png }
  ])

/** A python-mode app whose requirements cannot be installed. */
export const brokenRequirementsBundle = () =>
  zip([
    { name: "app.toml", data: `[App]\nName = "broken"\nVersion = "1.0.0"\n\n[Runtime]\nModule = "hello_app"\nAppMode = "python"\n` },
    { name: "hello_app.py", data: readFileSync(join(testdata, "hello_app.py")) },
    { name: "requirements.txt", data: "aquifer-no-such-package-f00d==9.9.9\n" }
  ])

/** A python-mode app whose package index cannot be reached (pip is pointed at a closed port). */
export const unreachableIndexBundle = () =>
  zip([
    {
      name: "app.toml",
      data: `[App]\nName = "offline"\nVersion = "1.0.0"\n\n[Runtime]\nModule = "hello_app"\nAppMode = "python"\n\n` +
        `[[Env]]\nName = "PIP_INDEX_URL"\nValue = "http://127.0.0.1:9/simple"\n\n[[Env]]\nName = "PIP_RETRIES"\nValue = "0"\n\n[[Env]]\nName = "PIP_TIMEOUT"\nValue = "2"\n`
    },
    { name: "hello_app.py", data: readFileSync(join(testdata, "hello_app.py")) },
    { name: "requirements.txt", data: "aquifer-unreachable-probe==1.0.0\n" }
  ])

/** A python-mode app listing an OS package in packages.txt (one every Debian has). */
export const packagesBundle = () =>
  zip([
    { name: "app.toml", data: `[App]\nName = "with-packages"\nVersion = "1.0.0"\n\n[Runtime]\nModule = "hello_app"\nAppMode = "python"\n` },
    { name: "hello_app.py", data: readFileSync(join(testdata, "hello_app.py")) },
    { name: "packages.txt", data: "# what the app needs from the OS\ncoreutils\n" }
  ])

/** A container app (runs only on Kubernetes). */
export const containerBundle = () =>
  zip([{ name: "app.toml", data: `[App]\nName = "boxed"\nVersion = "1.0.0"\n\n[Runtime]\nAppMode = "container"\nCustomImage = "ghcr.io/acme/boxed:1"\nPort = 8080\n` }])
