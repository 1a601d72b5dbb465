import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3"
import { presign } from "./_raw_client.ts"
import { principalOf, startTestDrive } from "./_test_support.ts"
const drive = await startTestDrive()
const alice = await drive.keyFor(principalOf("alice"))
await drive.client(alice).send(new CreateBucketCommand({ Bucket: "bkt-one" }))
await drive.client(alice).send(new PutObjectCommand({ Bucket: "bkt-one", Key: "k", Body: "v" }))
const url = await presign(drive.url, alice, { method: "GET", path: "/bkt-one/k", expiresIn: 60 })
console.log(url)
console.log(await (await fetch(url)).text())
await drive.stop()
