import { layerMemory } from "./memory.ts"
import { suite } from "./testing.ts"

suite("memory", layerMemory)
