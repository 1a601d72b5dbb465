import { layerMemory } from "./memory.ts"
import { kitPolicy, suite } from "./testing.ts"

suite("memory", layerMemory(kitPolicy), {
  server: () => ({ image: "registry.aquifer.test/echo:1", command: "/bin/echo-server", port: 8080 })
})
