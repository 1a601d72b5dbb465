// The few Kubernetes calls the scheduler makes, over @kubernetes/client-node 2 (object params),
// with objects handled as plain JSON and "absent" (404) as undefined.
import { ApiException, AppsV1Api, CoreV1Api, type KubeConfig, Log, Watch } from "@kubernetes/client-node"
import { Writable } from "node:stream"
import type { KubeObject } from "./_chart.ts"

export type Resource = "secrets" | "services" | "persistentvolumeclaims" | "pods" | "deployments"

export interface Listed {
  readonly items: Array<KubeObject>
  readonly resourceVersion: string
}

const toJson = (value: unknown): any => JSON.parse(JSON.stringify(value))

export const isStatus = (error: unknown, code: number): boolean => error instanceof ApiException && error.code === code

export const statusMessage = (error: unknown): string => {
  if (!(error instanceof ApiException)) return error instanceof Error ? error.message : String(error)
  const body = typeof error.body === "string" ? safeParse(error.body) : error.body
  const message = body !== null && typeof body === "object" && typeof (body as { message?: unknown }).message === "string"
    ? (body as { message: string }).message
    : String(error.body)
  return `HTTP ${error.code}: ${message}`
}

const safeParse = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export class Kube {
  readonly core: CoreV1Api
  readonly apps: AppsV1Api
  readonly config: KubeConfig
  readonly namespace: string

  constructor(config: KubeConfig, namespace: string) {
    this.config = config
    this.namespace = namespace
    this.core = config.makeApiClient(CoreV1Api)
    this.apps = config.makeApiClient(AppsV1Api)
  }

  async get(resource: Resource, name: string): Promise<KubeObject | undefined> {
    const namespace = this.namespace
    try {
      switch (resource) {
        case "secrets":
          return toJson(await this.core.readNamespacedSecret({ name, namespace }))
        case "services":
          return toJson(await this.core.readNamespacedService({ name, namespace }))
        case "persistentvolumeclaims":
          return toJson(await this.core.readNamespacedPersistentVolumeClaim({ name, namespace }))
        case "pods":
          return toJson(await this.core.readNamespacedPod({ name, namespace }))
        case "deployments":
          return toJson(await this.apps.readNamespacedDeployment({ name, namespace }))
      }
    } catch (error) {
      if (isStatus(error, 404)) return undefined
      throw error
    }
  }

  async list(resource: Resource, labelSelector: string): Promise<Listed> {
    const namespace = this.namespace
    const list = resource === "secrets"
      ? await this.core.listNamespacedSecret({ namespace, labelSelector })
      : resource === "services"
      ? await this.core.listNamespacedService({ namespace, labelSelector })
      : resource === "persistentvolumeclaims"
      ? await this.core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector })
      : resource === "pods"
      ? await this.core.listNamespacedPod({ namespace, labelSelector })
      : await this.apps.listNamespacedDeployment({ namespace, labelSelector })
    const json = toJson(list)
    return { items: json.items ?? [], resourceVersion: json.metadata?.resourceVersion ?? "" }
  }

  async create(resource: Resource, body: KubeObject): Promise<KubeObject> {
    const namespace = this.namespace
    switch (resource) {
      case "secrets":
        return toJson(await this.core.createNamespacedSecret({ namespace, body }))
      case "services":
        return toJson(await this.core.createNamespacedService({ namespace, body }))
      case "persistentvolumeclaims":
        return toJson(await this.core.createNamespacedPersistentVolumeClaim({ namespace, body }))
      case "pods":
        return toJson(await this.core.createNamespacedPod({ namespace, body }))
      case "deployments":
        return toJson(await this.apps.createNamespacedDeployment({ namespace, body }))
    }
  }

  async replace(resource: Resource, body: KubeObject): Promise<KubeObject> {
    const namespace = this.namespace
    const name = body.metadata.name as string
    switch (resource) {
      case "secrets":
        return toJson(await this.core.replaceNamespacedSecret({ name, namespace, body }))
      case "services":
        return toJson(await this.core.replaceNamespacedService({ name, namespace, body }))
      case "persistentvolumeclaims":
        return toJson(await this.core.replaceNamespacedPersistentVolumeClaim({ name, namespace, body }))
      case "pods":
        return toJson(await this.core.replaceNamespacedPod({ name, namespace, body }))
      case "deployments":
        return toJson(await this.apps.replaceNamespacedDeployment({ name, namespace, body }))
    }
  }

  /** Deletes; false when it was already gone. Dependents are collected in the background. */
  async delete(resource: Resource, name: string): Promise<boolean> {
    const namespace = this.namespace
    const propagationPolicy = "Background"
    try {
      switch (resource) {
        case "secrets":
          await this.core.deleteNamespacedSecret({ name, namespace, propagationPolicy })
          break
        case "services":
          await this.core.deleteNamespacedService({ name, namespace, propagationPolicy })
          break
        case "persistentvolumeclaims":
          await this.core.deleteNamespacedPersistentVolumeClaim({ name, namespace, propagationPolicy })
          break
        case "pods":
          await this.core.deleteNamespacedPod({ name, namespace, propagationPolicy })
          break
        case "deployments":
          await this.apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy })
          break
      }
      return true
    } catch (error) {
      if (isStatus(error, 404)) return false
      throw error
    }
  }

  async podLog(pod: string, options: { previous?: boolean | undefined; tailLines?: number | undefined }): Promise<string> {
    try {
      return await this.core.readNamespacedPodLog({
        name: pod,
        namespace: this.namespace,
        container: "workload",
        ...(options.previous ? { previous: true } : {}),
        ...(options.tailLines !== undefined ? { tailLines: options.tailLines } : {})
      })
    } catch (error) {
      // No previous run, or the container has not started: nothing to show yet.
      if (isStatus(error, 400) || isStatus(error, 404)) return ""
      throw error
    }
  }

  /** Streams a pod's log until the server ends it; returns a function that aborts. */
  async followLog(pod: string, tailLines: number | undefined, onText: (text: string) => void, onEnd: (error?: unknown) => void): Promise<() => void> {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        onText(chunk.toString("utf8"))
        callback()
      }
    })
    sink.on("finish", () => onEnd())
    const controller = await new Log(this.config).log(this.namespace, pod, "workload", sink, {
      follow: true,
      ...(tailLines !== undefined ? { tailLines } : {})
    })
    return () => controller.abort()
  }

  /** Watches a resource from `resourceVersion`; returns a function that stops the watch. */
  async watch(
    resource: "deployments" | "pods",
    labelSelector: string,
    resourceVersion: string,
    onEvent: (type: string, object: KubeObject) => void,
    onDone: (error: unknown) => void
  ): Promise<() => void> {
    const path = resource === "deployments"
      ? `/apis/apps/v1/namespaces/${this.namespace}/deployments`
      : `/api/v1/namespaces/${this.namespace}/pods`
    const controller = await new Watch(this.config).watch(
      path,
      { labelSelector, resourceVersion, allowWatchBookmarks: true },
      (type, object) => onEvent(type, object as KubeObject),
      onDone
    )
    return () => controller.abort()
  }
}
