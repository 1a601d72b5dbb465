/**
 * The OpenAPI 3.1 description of the App Store API (`GET /api/v1/openapi.json`) and a small
 * page rendering it (`GET /api/v1/docs`), served from the platform itself (no CDN).
 */

type Json = Record<string, unknown>

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const problem = { description: "A problem (RFC 9457)", content: { "application/problem+json": { schema: ref("Problem") } } }
const jsonBody = (schema: Json, description = "") => ({ required: true, description, content: { "application/json": { schema } } })
const ok = (schema: Json, description = "OK") => ({ description, content: { "application/json": { schema } } })
const page = (item: string) => ({ type: "object", properties: { items: { type: "array", items: ref(item) }, next: { type: "string", description: "cursor of the next page" } }, required: ["items"] })
const list = (item: string) => ({ type: "object", properties: { items: { type: "array", items: ref(item) } }, required: ["items"] })
const idParam = (name: string, description: string) => ({ name, in: "path", required: true, schema: { type: "string" }, description })

const op = (tag: string, summary: string, extra: Json = {}, signedIn = true): Json => ({
  tags: [tag],
  summary,
  ...(signedIn ? { security: [{ session: [] }, { bearer: [] }] } : { security: [{}, { session: [] }, { bearer: [] }] }),
  ...extra,
  responses: {
    ...(extra.responses as Json | undefined),
    "400": problem,
    ...(signedIn ? { "401": problem } : {}),
    "403": problem,
    "404": problem,
    "503": problem
  }
})

const visibility = { type: "string", enum: ["PRIVATE", "ALL_USERS", "PUBLIC"] }

export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "Aquifer App Store API",
    version: "1",
    description: "Apps, versions, bundles, tags, instances, secrets and aliases. Errors are RFC 9457 problems whose `type` is `urn:aquifer:problem:<slug>` (docs/problems.md). Instances themselves are reached through the router at `/instances/<id>/` (docs/router.md)."
  },
  servers: [{ url: "/" }],
  components: {
    securitySchemes: {
      session: { type: "apiKey", in: "cookie", name: "aquifer_session", description: "The browser session (HttpOnly). Unsafe methods must come from the platform's own origin." },
      bearer: { type: "http", scheme: "bearer", description: "An issuer access token, or a platform token (`aqt_…`)." }
    },
    schemas: {
      Problem: { type: "object", properties: { type: { type: "string" }, title: { type: "string" }, status: { type: "integer" }, detail: { type: "string" }, field: { type: "string" }, requestId: { type: "string" } }, required: ["type", "title", "status"] },
      App: { type: "object", properties: { id: { type: "string", pattern: "^app_[0-9a-f]{32}$" }, name: { type: "string" }, owner: { type: "string", description: "issuer#subject" }, visibility, tags: { type: "array", items: { type: "string" } }, createdAt: { type: "string", format: "date-time" }, updatedAt: { type: "string", format: "date-time" }, latest: ref("Version") }, required: ["id", "name", "owner", "visibility", "tags"] },
      Version: {
        type: "object",
        properties: {
          id: { type: "string", pattern: "^ver_[0-9a-f]{32}$" }, appId: { type: "string" }, version: { type: "string", description: "semver" }, title: { type: "string" }, description: { type: "string" }, longDescription: { type: "string", description: "markdown" },
          tags: { type: "array", items: { type: "string" } }, lifecycle: { type: "string", enum: ["ON_DEMAND", "MANAGED", "LINK"] }, instanceTimeoutSeconds: { type: "integer", description: "-1: never" },
          appMode: { type: "string", enum: ["wave", "python", "container"] }, linkAddress: { type: "string" },
          env: { type: "array", items: { type: "object", description: "names and secret references; values of secrets never" } },
          files: { type: "array", items: { type: "object" } }, icon: { type: "string", description: "URL of the icon" }, screenshots: { type: "array", items: { type: "string" } },
          bundleSha256: { type: "string" }, bundleSize: { type: "integer" }, importedBy: { type: "string" }, createdAt: { type: "string", format: "date-time" }
        }
      },
      Tag: { type: "object", properties: { id: { type: "string" }, name: { type: "string" }, title: { type: "string" }, color: { type: "string", pattern: "^#[0-9a-fA-F]{6}$" }, description: { type: "string" }, isCategory: { type: "boolean" }, visitorRoles: { type: "array", items: { type: "string" } }, adminRoles: { type: "array", items: { type: "string" } } } },
      TagInput: { type: "object", properties: { name: { type: "string" }, title: { type: "string" }, color: { type: "string" }, description: { type: "string" }, isCategory: { type: "boolean" }, visitorRoles: { type: "array", items: { type: "string" } }, adminRoles: { type: "array", items: { type: "string" } } }, required: ["name"] },
      Instance: {
        type: "object",
        properties: {
          id: { type: "string", pattern: "^ins_[0-9a-f]{32}$" }, appId: { type: "string" }, appName: { type: "string" }, versionId: { type: "string" }, version: { type: "string" }, owner: { type: "string" }, visibility, lifecycle: { type: "string" },
          timeoutSeconds: { type: "integer" }, phase: { type: "string", enum: ["pending", "starting", "running", "suspended", "failed"] }, ready: { type: "boolean" }, reason: { type: "string" }, message: { type: "string" }, restarts: { type: "integer" },
          path: { type: "string", description: "where the router serves it, e.g. /instances/ins_…/" }, createdAt: { type: "string" }, updatedAt: { type: "string" }
        }
      },
      Secret: { type: "object", description: "Metadata only: values are never returned.", properties: { id: { type: "string" }, name: { type: "string" }, visibility: { type: "string", enum: ["PRIVATE", "ALL_USERS", "APP"] }, owner: { type: "string" }, appName: { type: "string" }, keys: { type: "array", items: { type: "string" } }, revision: { type: "integer" }, createdAt: { type: "string" }, updatedAt: { type: "string" } } },
      SecretInput: { type: "object", properties: { name: { type: "string" }, visibility: { type: "string", enum: ["PRIVATE", "ALL_USERS", "APP"] }, appName: { type: "string" }, data: { type: "object", additionalProperties: { type: "string" } } }, required: ["name", "visibility", "data"] },
      Alias: { type: "object", properties: { name: { type: "string" }, instanceId: { type: "string" }, createdBy: { type: "string" }, createdAt: { type: "string" } } }
    }
  },
  paths: {
    "/api/v1/apps": {
      get: op("apps", "List the apps you may see, each with its newest version", {
        parameters: [{ name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 200 } }, { name: "cursor", in: "query", schema: { type: "string" } }, { name: "tag", in: "query", schema: { type: "string" } }, { name: "mine", in: "query", schema: { type: "boolean" } }],
        responses: { "200": ok(page("App")) }
      }, false),
      post: op("apps", "Import a bundle (.wave/.zip) as a new app or a new version of yours", {
        parameters: [{ name: "visibility", in: "query", schema: visibility }],
        requestBody: { required: true, content: { "application/zip": { schema: { type: "string", format: "binary" } }, "application/octet-stream": { schema: { type: "string", format: "binary" } } } },
        responses: { "201": ok({ type: "object", properties: { app: ref("App"), version: ref("Version"), ignoredTags: { type: "array", items: { type: "string" } } } }, "Imported"), "409": problem, "413": problem }
      })
    },
    "/api/v1/apps/{appId}": {
      parameters: [idParam("appId", "app id")],
      get: op("apps", "An app with its tags and versions", { responses: { "200": ok(ref("App")) } }, false),
      patch: op("apps", "Change an app's visibility or tags", { requestBody: jsonBody({ type: "object", properties: { visibility, tags: { type: "array", items: { type: "string" } } } }), responses: { "200": ok(ref("App")) } }),
      delete: op("apps", "Delete an app with its versions (refused while instances exist)", { responses: { "204": { description: "Deleted" } } })
    },
    "/api/v1/apps/{appId}/versions": { parameters: [idParam("appId", "app id")], get: op("versions", "The versions of an app, newest first", { responses: { "200": ok(list("Version")) } }, false) },
    "/api/v1/versions/{versionId}": {
      parameters: [idParam("versionId", "version id")],
      get: op("versions", "One version", { responses: { "200": ok(ref("Version")) } }, false),
      delete: op("versions", "Delete a version (refused while it has instances)", { responses: { "204": { description: "Deleted" } } })
    },
    "/api/v1/versions/{versionId}/icon": { parameters: [idParam("versionId", "version id")], get: op("bundles", "The version's icon", { responses: { "200": { description: "png or jpeg", content: { "image/png": {}, "image/jpeg": {} } } } }, false) },
    "/api/v1/versions/{versionId}/screenshots/{n}": { parameters: [idParam("versionId", "version id"), { name: "n", in: "path", required: true, schema: { type: "integer", minimum: 1 } }], get: op("bundles", "A screenshot (1-based)", { responses: { "200": { description: "png or jpeg" } } }, false) },
    "/api/v1/versions/{versionId}/bundle": { parameters: [idParam("versionId", "version id")], get: op("bundles", "Download the bundle (the app's owner and admins)", { responses: { "200": { description: "the archive", content: { "application/zip": {} } } } }) },
    "/api/v1/tags": {
      get: op("tags", "Every tag", { responses: { "200": ok(list("Tag")) } }, false),
      post: op("tags", "Create a tag (admins)", { requestBody: jsonBody(ref("TagInput")), responses: { "201": ok(ref("Tag")), "409": problem } })
    },
    "/api/v1/tags/{tagId}": {
      parameters: [idParam("tagId", "tag id")],
      patch: op("tags", "Change a tag (admins)", { requestBody: jsonBody(ref("TagInput")), responses: { "200": ok(ref("Tag")) } }),
      delete: op("tags", "Delete a tag (admins); it leaves every app", { responses: { "204": { description: "Deleted" } } })
    },
    "/api/v1/instances": {
      get: op("instances", "Instances you may see (read from the scheduler)", { parameters: [{ name: "appId", in: "query", schema: { type: "string" } }, { name: "mine", in: "query", schema: { type: "boolean" } }], responses: { "200": ok(list("Instance")) } }),
      post: op("instances", "Launch a version", { requestBody: jsonBody({ type: "object", properties: { versionId: { type: "string" }, visibility }, required: ["versionId"] }), responses: { "201": ok(ref("Instance")), "422": problem, "429": problem } })
    },
    "/api/v1/instances/{id}": {
      parameters: [idParam("id", "instance id")],
      get: op("instances", "One instance and its state", { responses: { "200": ok(ref("Instance")) } }),
      patch: op("instances", "Change who may reach it (no restart)", { requestBody: jsonBody({ type: "object", properties: { visibility }, required: ["visibility"] }), responses: { "200": ok(ref("Instance")) } }),
      delete: op("instances", "Terminate it (everything it had is removed)", { responses: { "204": { description: "Terminated" } } })
    },
    "/api/v1/instances/{id}/suspend": { parameters: [idParam("id", "instance id")], post: op("instances", "Suspend (compute released, state kept)", { responses: { "200": ok(ref("Instance")) } }) },
    "/api/v1/instances/{id}/resume": { parameters: [idParam("id", "instance id")], post: op("instances", "Resume a suspended instance", { responses: { "200": ok(ref("Instance")) } }) },
    "/api/v1/instances/{id}/logs": {
      parameters: [idParam("id", "instance id"), { name: "previous", in: "query", schema: { type: "boolean" } }, { name: "follow", in: "query", schema: { type: "boolean" } }, { name: "tail", in: "query", schema: { type: "integer" } }],
      get: op("instances", "Log lines (the instance's owner, the app's owner, admins)", { responses: { "200": { description: "text/plain, one line per line; streamed with follow", content: { "text/plain": {} } } } })
    },
    "/api/v1/secrets": {
      get: op("secrets", "Your secrets (metadata; never values)", { parameters: [{ name: "visibility", in: "query", schema: { type: "string" } }, { name: "appName", in: "query", schema: { type: "string" } }], responses: { "200": ok(list("Secret")) } }),
      post: op("secrets", "Create a secret (ALL_USERS: admins; APP: the app's managers)", { requestBody: jsonBody(ref("SecretInput")), responses: { "201": ok(ref("Secret")), "409": problem } })
    },
    "/api/v1/secrets/{id}": {
      parameters: [idParam("id", "secret id")],
      get: op("secrets", "A secret's metadata", { responses: { "200": ok(ref("Secret")) } }),
      put: op("secrets", "Replace its values (optionally only from `revision`)", { requestBody: jsonBody({ type: "object", properties: { data: { type: "object", additionalProperties: { type: "string" } }, revision: { type: "integer" } }, required: ["data"] }), responses: { "200": ok(ref("Secret")), "409": problem } }),
      delete: op("secrets", "Delete it (refused while an instance uses it)", { responses: { "204": { description: "Deleted" } } })
    },
    "/api/v1/aliases": {
      get: op("aliases", "Aliases (admins)", { parameters: [{ name: "instanceId", in: "query", schema: { type: "string" } }], responses: { "200": ok(list("Alias")) } }),
      post: op("aliases", "Point /a/<name>/ at an instance (admins)", { requestBody: jsonBody({ type: "object", properties: { name: { type: "string" }, instanceId: { type: "string" } }, required: ["name", "instanceId"] }), responses: { "201": ok(ref("Alias")), "409": problem } })
    },
    "/api/v1/aliases/{name}": { parameters: [idParam("name", "alias")], delete: op("aliases", "Remove an alias (admins)", { responses: { "204": { description: "Deleted" } } }) }
  }
} as const

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!)

/** A readable page of the document: every operation, grouped by tag. */
export const openApiPage = (() => {
  const rows: Array<string> = []
  for (const [path, item] of Object.entries(openApiDocument.paths)) {
    for (const [method, operation] of Object.entries(item as Record<string, unknown>)) {
      if (method === "parameters") continue
      const o = operation as { summary: string; tags: Array<string> }
      rows.push(`<tr><td>${escape(o.tags[0]!)}</td><td><code>${method.toUpperCase()}</code></td><td><code>${escape(path)}</code></td><td>${escape(o.summary)}</td></tr>`)
    }
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Aquifer App Store API</title>` +
    `<style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem}td{padding:.2rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}code{font-size:.9em}</style></head>` +
    `<body><h1>Aquifer App Store API</h1><p>${escape(openApiDocument.info.description)}</p><p>Machine-readable: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI 3.1).</p>` +
    `<table><thead><tr><th>area</th><th>method</th><th>path</th><th>what</th></tr></thead><tbody>${rows.join("")}</tbody></table></body></html>`
})()
