// s3rver in a process of its own (benchmarks): serves <folder> on a free port of 127.0.0.1 with
// one bucket, "bench"; prints one JSON line { url }.
import S3rver from "s3rver"

const directory = process.argv[2]!
const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, configureBuckets: [{ name: "bench", configs: [] }] })
const address = await server.run()
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${address.port}` })}\n`)
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)))
