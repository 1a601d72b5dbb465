import { cipherSuite, storeSuite } from "./testing.ts"
import { layerCipherMemory, layerStoreMemory } from "./memory.ts"

storeSuite("memory", layerStoreMemory)
cipherSuite("memory (Web Crypto AES-GCM)", layerCipherMemory)
