import { layerMemory } from "./mod.ts"
import { suite } from "./testing.ts"

suite("memory", layerMemory)
