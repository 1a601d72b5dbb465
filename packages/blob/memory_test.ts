import { layerMemory } from "./mod.ts"
import { suite } from "./testing.ts"

suite("memory", layerMemory, { buffersObjects: true, largeObjectBytes: 24 * 1024 * 1024 })
