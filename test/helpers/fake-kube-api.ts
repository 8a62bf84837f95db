// A FAKE Kubernetes API server, for the Kubernetes executor's tests and for endpoints served on
// Kubernetes (apps/v1 Deployments and v1 Services: create, read, replace, delete; see the end of this
// comment). No real API server can run on the
// test machines, so this node:http server on 127.0.0.1 implements just the endpoints the executor calls
// through the official client library (@kubernetes/client-node), with Kubernetes' shapes and status
// codes: GET /version; create, read, list and delete batch/v1 Jobs (delete honours propagationPolicy);
// list pods by label selector; read a pod's log. It checks the bearer token of the kubeconfig it writes.
//
// It is not Kubernetes. A Job's single pod "runs" by executing its container's command as a real local
// process (its own process group) with the environment Kubernetes would give it: `value`s with $(NAME)
// expansion, `secretKeyRef`s from the Secrets a test puts in `secrets`, a fresh HOME and TMPDIR; the image
// is not pulled, resources are not enforced, volumes are not mounted (the local filesystem is shared
// anyway). So the real Slipway runner executes and the run's outcome, logs and state are real. Failure
// states are simulated on request: an image in `missingImages` stays in ImagePullBackOff; a pod asking
// for more nvidia.com/gpu than `gpus` stays Unschedulable; a missing Secret is CreateContainerConfigError;
// activeDeadlineSeconds is enforced (DeadlineExceeded, then SIGTERM); `oomKill` and `evict` end a pod the
// way the kubelet reports it.
//
// Deployments and Services are stored as sent, with Kubernetes' bookkeeping: uid, resourceVersion
// (a replace with another one is 409 Conflict, as the API does), generation, a Service's clusterIP
// (assigned once; a replace that changes it is 422, the field is immutable). A Deployment's "controller"
// sets its status at once: every replica ready, unless its image is in `missingImages` or a
// secretKeyRef names a Secret or key the fake lacks (then none is ready, Available False). No pod runs
// for a Deployment: its pods are only listed, with the kubelet's waiting reason. On request: `forbidden` answers 403 for "VERB RESOURCE NAMESPACE" (e.g. "create
// deployments locked"), `conflictOnce` answers one 409 for "VERB RESOURCE" (e.g. "update deployments").
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body?: Json;
}

interface FakePod {
  object: Json;
  log: string;
  process?: ChildProcess;
  /** How the kubelet reports the end it forced (OOMKilled), else the exit decides. */
  forced?: { reason: string; exitCode: number };
}

interface FakeJob {
  object: Json;
  pods: FakePod[];
  deadline?: NodeJS.Timeout;
}

export interface FakeKube {
  /** http://127.0.0.1:PORT */
  url: string;
  /** A kubeconfig file pointing at the fake (contexts "fake", the current one, and "other"). */
  kubeconfig: string;
  token: string;
  requests: RecordedRequest[];
  /** Secrets by "namespace/name": key -> value. */
  secrets: Map<string, Record<string, string>>;
  /** Images that cannot be pulled (their pods stay in ImagePullBackOff). */
  missingImages: Set<string>;
  /** nvidia.com/gpu on the fake's one node (0: a GPU pod stays Unschedulable). */
  gpus: number;
  /** Deployments and Services as stored, by "Kind/namespace/name" (Kind: Deployment or Service). */
  objects: Map<string, Json>;
  /** "VERB RESOURCE NAMESPACE" answered 403 (verbs get, list, create, update, delete; resources deployments, services). */
  forbidden: Set<string>;
  /** "VERB RESOURCE" answered 409 Conflict once. */
  conflictOnce: Set<string>;
  /** The Job of a run (by label slipway.dev/run), as stored. */
  job(run: string): Json | undefined;
  /** The pod of a run, as the API shows it. */
  pod(run: string): Json | undefined;
  /** The kubelet kills the run's container for exceeding its memory limit (SIGKILL, OOMKilled, exit 137). */
  oomKill(run: string): void;
  /** The kubelet evicts the run's pod (node pressure): phase Failed, reason Evicted, container killed. */
  evict(run: string): void;
  close(): Promise<void>;
}

export interface FakeKubeOptions {
  /** Folders put first on the pods' PATH (where a `slipway` command is). */
  path: string[];
  /** Where pods get their HOME and TMPDIR. */
  root: string;
}

export async function startFakeKube(options: FakeKubeOptions): Promise<FakeKube> {
  const token = "fake-token-0123456789";
  const jobs = new Map<string, FakeJob>(); // "ns/name"
  const requests: RecordedRequest[] = [];
  const secrets = new Map<string, Record<string, string>>();
  const missingImages = new Set<string>();
  const state = { gpus: 0 };
  let podSeq = 0;
  let kubeconfig = "";
  const now = () => new Date().toISOString();

  const status = (res: ServerResponse, code: number, reason: string, message: string) => send(res, code, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code });

  function podsOf(ns: string): FakePod[] {
    return [...[...jobs.entries()].filter(([k]) => k.startsWith(`${ns}/`)).flatMap(([, j]) => j.pods), ...[...deploymentPods.entries()].filter(([k]) => k.startsWith(`${ns}/`)).flatMap(([, pods]) => pods)];
  }

  function setJobCondition(job: FakeJob, type: string, reason: string, message: string): void {
    const s = (job.object.status ??= {});
    s.conditions = [...(s.conditions ?? []), { type, status: "True", reason, message, lastTransitionTime: now(), lastProbeTime: now() }];
    if (type === "Failed") s.failed = 1;
    if (type === "Complete") {
      s.succeeded = 1;
      s.completionTime = now();
    }
    s.active = 0;
  }

  /** Kubernetes' expansion of env values: $$ is "$", $(NAME) the value of an earlier variable (else left as written). */
  function expand(value: string, env: Record<string, string>): string {
    return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => (name === undefined ? "$" : env[name] ?? m));
  }

  function startPod(job: FakeJob): void {
    const jobObject = job.object;
    const ns = jobObject.metadata.namespace;
    const template = jobObject.spec.template;
    const container = template.spec.containers[0];
    const name = `${jobObject.metadata.name}-${(++podSeq).toString(36).padStart(5, "x")}`;
    const pod: FakePod = {
      log: "",
      object: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: ns, uid: `pod-${podSeq}`, creationTimestamp: now(), labels: { ...template.metadata?.labels, "job-name": jobObject.metadata.name, "batch.kubernetes.io/job-name": jobObject.metadata.name } },
        spec: { ...template.spec, nodeName: undefined },
        status: { phase: "Pending", conditions: [] },
      },
    };
    job.pods.push(pod);
    const waiting = (reason: string, message: string) => {
      pod.object.status.containerStatuses = [{ name: container.name, image: container.image, ready: false, restartCount: 0, state: { waiting: { reason, message } } }];
    };
    const gpus = Number(container.resources?.limits?.["nvidia.com/gpu"] ?? 0);
    if (gpus > state.gpus) {
      pod.object.status.conditions = [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: `0/1 nodes are available: 1 Insufficient nvidia.com/gpu.` }];
      return;
    }
    pod.object.spec.nodeName = "fake-node-1";
    pod.object.status.conditions = [{ type: "PodScheduled", status: "True" }];
    if (missingImages.has(container.image)) {
      waiting("ImagePullBackOff", `Back-off pulling image "${container.image}"`);
      return;
    }
    // The container's environment, as the kubelet builds it.
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = expand(e.value, env);
      else if (e.valueFrom?.secretKeyRef) {
        const ref = e.valueFrom.secretKeyRef;
        const secret = secrets.get(`${ns}/${ref.name}`);
        const v = secret?.[ref.key];
        if (v === undefined) {
          if (ref.optional) continue;
          waiting("CreateContainerConfigError", secret ? `couldn't find key ${ref.key} in Secret ${ns}/${ref.name}` : `secret "${ref.name}" not found`);
          return;
        }
        env[e.name] = v;
      } else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.name") env[e.name] = name;
    }
    const podRoot = mkdtempSync(join(options.root, `${name}-`));
    mkdirSync(join(podRoot, "tmp"));
    const command: string[] = [...(container.command ?? []), ...(container.args ?? [])];
    const child = spawn(command[0]!, command.slice(1), {
      cwd: container.workingDir ?? podRoot,
      // KUBECONFIG stands for the pod's service account (in-cluster access to the API), which the runner
      // uses to ask why it is being stopped (its deadline, or a cancel).
      env: { PATH: [...options.path, process.env.PATH ?? ""].join(delimiter), HOME: podRoot, TMPDIR: join(podRoot, "tmp"), LANG: "C.UTF-8", HOSTNAME: name, KUBECONFIG: kubeconfig, ...env },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    pod.process = child;
    child.stdout!.on("data", (d: Buffer) => (pod.log += d.toString("utf8")));
    child.stderr!.on("data", (d: Buffer) => (pod.log += d.toString("utf8")));
    const startedAt = now();
    pod.object.status = { ...pod.object.status, phase: "Running", startTime: startedAt, containerStatuses: [{ name: container.name, image: container.image, ready: true, restartCount: 0, state: { running: { startedAt } } }] };
    job.object.status = { ...job.object.status, active: 1, startTime: job.object.status?.startTime ?? startedAt };
    child.on("error", (e) => {
      pod.log += `exec: ${e.message}\n`;
    });
    child.on("close", (code, signal) => {
      pod.process = undefined;
      const exitCode = pod.forced?.exitCode ?? code ?? (signal === "SIGKILL" ? 137 : signal === "SIGTERM" ? 143 : 1);
      const reason = pod.forced?.reason ?? (exitCode === 0 ? "Completed" : "Error");
      if (pod.object.status.reason !== "Evicted") pod.object.status.phase = exitCode === 0 ? "Succeeded" : "Failed";
      pod.object.status.containerStatuses = [{ name: container.name, image: container.image, ready: false, restartCount: 0, state: { terminated: { exitCode, reason, startedAt, finishedAt: now() } } }];
      const key = `${ns}/${jobObject.metadata.name}`;
      if (jobs.get(key) !== job) {
        // The Job was deleted: with propagation Background the garbage collector removes its pod.
        job.pods = job.pods.filter((p) => p !== pod);
        return;
      }
      clearTimeout(job.deadline);
      const failed = (job.object.status.conditions ?? []).some((c: Json) => c.type === "Failed");
      if (failed) return;
      if (exitCode === 0) setJobCondition(job, "Complete", "", "");
      else setJobCondition(job, "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit");
    });
  }

  const signalPod = (pod: FakePod, signal: NodeJS.Signals) => {
    if (!pod.process?.pid) return;
    try {
      process.kill(-pod.process.pid, signal);
    } catch {
      /* gone */
    }
  };
  /** Graceful termination: SIGTERM, SIGKILL after the grace period. */
  const terminate = (pod: FakePod) => {
    signalPod(pod, "SIGTERM");
    const grace = (pod.object.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    const timer = setTimeout(() => signalPod(pod, "SIGKILL"), grace);
    timer.unref();
  };

  function createJob(ns: string, body: Json, res: ServerResponse): void {
    const name = body?.metadata?.name;
    if (!name) return status(res, 422, "Invalid", "Job.batch is invalid: metadata.name: Required value");
    if (body.metadata.namespace && body.metadata.namespace !== ns) return status(res, 400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
    const key = `${ns}/${name}`;
    if (jobs.has(key)) return status(res, 409, "AlreadyExists", `jobs.batch "${name}" already exists`);
    const object = { ...body, metadata: { ...body.metadata, namespace: ns, uid: `job-${jobs.size + 1}`, creationTimestamp: now(), resourceVersion: "1" }, status: {} };
    const job: FakeJob = { object, pods: [] };
    jobs.set(key, job);
    send(res, 201, object);
    // The Job controller and the kubelet, a moment later.
    setImmediate(() => {
      if (jobs.get(key) !== job) return;
      startPod(job);
      const deadline = object.spec.activeDeadlineSeconds;
      if (deadline !== undefined) {
        job.deadline = setTimeout(() => {
          if (jobs.get(key) !== job || (job.object.status.conditions ?? []).some((c: Json) => c.type === "Complete" || c.type === "Failed")) return;
          setJobCondition(job, "Failed", "DeadlineExceeded", "Job was active longer than specified deadline");
          for (const p of job.pods) terminate(p);
        }, deadline * 1000);
        job.deadline.unref();
      }
    });
  }

  function deleteJob(ns: string, name: string, res: ServerResponse): void {
    const job = jobs.get(`${ns}/${name}`);
    if (!job) return status(res, 404, "NotFound", `jobs.batch "${name}" not found`);
    jobs.delete(`${ns}/${name}`);
    clearTimeout(job.deadline);
    // The pods stay listed until their process has ended (they are terminating), under the deleted Job's key.
    const orphans: FakeJob = { object: job.object, pods: job.pods.filter((p) => p.process) };
    if (orphans.pods.length) jobs.set(`${ns}/\u0000deleted-${name}`, orphans);
    for (const p of orphans.pods) {
      p.object.metadata.deletionTimestamp = now();
      terminate(p);
      p.process!.on("close", () => {
        orphans.pods = orphans.pods.filter((x) => x !== p);
        if (!orphans.pods.length) jobs.delete(`${ns}/\u0000deleted-${name}`);
      });
    }
    send(res, 200, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, group: "batch", kind: "jobs", uid: job.object.metadata.uid } });
  }

  const matches = (labels: Record<string, string> | undefined, selector: string | undefined) =>
    !selector ||
    selector.split(",").every((term) => {
      const [k, v] = term.split("=");
      return labels?.[k!] === v;
    });

  const objects = new Map<string, Json>();
  /** A Deployment's pods ("ns/name"), only listed (no process runs): how the kubelet shows them. */
  const deploymentPods = new Map<string, FakePod[]>();
  const forbidden = new Set<string>();
  const conflictOnce = new Set<string>();
  let versionSeq = 100;
  let ipSeq = 10;
  const KINDS: Record<string, { kind: string; group: string }> = { deployments: { kind: "Deployment", group: "apps" }, services: { kind: "Service", group: "" } };

  /** The Deployment controller and the kubelet, at once: every replica ready, unless an image or a Secret is missing. */
  function settleDeployment(d: Json): void {
    const ns = d.metadata.namespace;
    const replicas = d.spec?.replicas ?? 1;
    const containers: Json[] = d.spec?.template?.spec?.containers ?? [];
    const missingImage = containers.find((c) => missingImages.has(c.image));
    const missingRef = containers
      .flatMap((c) => c.env ?? [])
      .map((e: Json) => e.valueFrom?.secretKeyRef)
      .find((ref: Json) => ref && !ref.optional && secrets.get(`${ns}/${ref.name}`)?.[ref.key] === undefined);
    const waiting = missingImage
      ? { reason: "ImagePullBackOff", message: `Back-off pulling image "${missingImage.image}"` }
      : missingRef
        ? { reason: "CreateContainerConfigError", message: secrets.has(`${ns}/${missingRef.name}`) ? `couldn't find key ${missingRef.key} in Secret ${ns}/${missingRef.name}` : `secret "${missingRef.name}" not found` }
        : undefined;
    const ready = waiting ? 0 : replicas;
    deploymentPods.set(
      `${ns}/${d.metadata.name}`,
      Array.from({ length: replicas }, (_, i) => ({
        log: "",
        object: {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: `${d.metadata.name}-${d.metadata.generation}-${i}`, namespace: ns, labels: { ...d.spec?.template?.metadata?.labels } },
          status: {
            phase: waiting ? "Pending" : "Running",
            containerStatuses: containers.map((c) => ({ name: c.name, image: c.image, ready: !waiting, restartCount: 0, state: waiting ? { waiting } : { running: { startedAt: now() } } })),
          },
        },
      })),
    );
    d.status = {
      observedGeneration: d.metadata.generation,
      replicas,
      updatedReplicas: replicas,
      ...(ready ? { readyReplicas: ready, availableReplicas: ready } : { unavailableReplicas: replicas }),
      conditions: [
        ready
          ? { type: "Available", status: "True", reason: "MinimumReplicasAvailable", message: "Deployment has minimum availability." }
          : { type: "Available", status: "False", reason: "MinimumReplicasUnavailable", message: "Deployment does not have minimum availability." },
      ],
    };
  }

  function objectRequest(req: IncomingMessage, res: ServerResponse, resource: string, ns: string, name: string | undefined, body: Json): void {
    const { kind, group } = KINDS[resource]!;
    const verb = req.method === "POST" ? "create" : req.method === "PUT" ? "update" : req.method === "DELETE" ? "delete" : "get";
    const plural = group ? `${resource}.${group}` : resource;
    if (forbidden.has(`${verb} ${resource} ${ns}`)) {
      return status(res, 403, "Forbidden", `${plural} ${name ? `"${name}" ` : ""}is forbidden: User "fake" cannot ${verb} resource "${resource}" in API group "${group}" in the namespace "${ns}"`);
    }
    if (conflictOnce.delete(`${verb} ${resource}`)) return status(res, 409, "Conflict", `Operation cannot be fulfilled on ${plural} "${name ?? body?.metadata?.name}": the object has been modified; please apply your changes to the latest version and try again`);
    if (verb === "create") {
      const n = body?.metadata?.name;
      if (body?.kind !== kind) return status(res, 400, "BadRequest", `expected a ${kind}, got ${body?.kind}`);
      if (!n) return status(res, 422, "Invalid", `${kind} is invalid: metadata.name: Required value`);
      if (body.metadata.namespace && body.metadata.namespace !== ns) return status(res, 400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
      const key = `${kind}/${ns}/${n}`;
      if (objects.has(key)) return status(res, 409, "AlreadyExists", `${plural} "${n}" already exists`);
      const object = { ...body, metadata: { ...body.metadata, namespace: ns, uid: `${resource}-${++versionSeq}`, resourceVersion: String(++versionSeq), generation: 1, creationTimestamp: now() } };
      if (kind === "Service") object.spec = { ...object.spec, clusterIP: `10.96.0.${++ipSeq}`, clusterIPs: [`10.96.0.${ipSeq}`] };
      if (kind === "Deployment") settleDeployment(object);
      objects.set(key, object);
      return send(res, 201, object);
    }
    const key = `${kind}/${ns}/${name}`;
    const current = objects.get(key);
    if (!current) return status(res, 404, "NotFound", `${plural} "${name}" not found`);
    if (verb === "get") return send(res, 200, current);
    if (verb === "delete") {
      objects.delete(key);
      if (kind === "Deployment") deploymentPods.delete(`${ns}/${name}`);
      return send(res, 200, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name, group, kind: resource, uid: current.metadata.uid } });
    }
    // update (PUT): the whole object, with the resourceVersion it was read at.
    if (body?.metadata?.name !== name) return status(res, 400, "BadRequest", "the name of the object does not match the name on the URL");
    if (body.metadata.resourceVersion !== current.metadata.resourceVersion) {
      return status(res, 409, "Conflict", `Operation cannot be fulfilled on ${plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
    }
    if (kind === "Service" && body.spec?.clusterIP !== undefined && body.spec.clusterIP !== current.spec.clusterIP) {
      return status(res, 422, "Invalid", `Service "${name}" is invalid: spec.clusterIP: Invalid value: "${body.spec.clusterIP}": field is immutable`);
    }
    const changed = JSON.stringify(body.spec) !== JSON.stringify(current.spec);
    const object = {
      ...body,
      metadata: { ...body.metadata, namespace: ns, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp, resourceVersion: String(++versionSeq), generation: current.metadata.generation + (changed ? 1 : 0) },
    };
    if (kind === "Service") object.spec = { ...object.spec, clusterIP: current.spec.clusterIP, clusterIPs: current.spec.clusterIPs };
    if (kind === "Deployment") settleDeployment(object);
    objects.set(key, object);
    return send(res, 200, object);
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake");
      const query = Object.fromEntries(url.searchParams);
      let body: Json;
      if (chunks.length) {
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          return status(res, 400, "BadRequest", "the request body is not JSON");
        }
      }
      requests.push({ method: req.method ?? "GET", path: url.pathname, query, ...(body !== undefined ? { body } : {}) });
      if (req.headers.authorization !== `Bearer ${token}`) return status(res, 401, "Unauthorized", "Unauthorized");
      const path = url.pathname;
      let m: RegExpExecArray | null;
      if (req.method === "GET" && path === "/version") return send(res, 200, { major: "1", minor: "31", gitVersion: "v1.31.0-fake", platform: "linux/amd64" });
      if ((m = /^\/(?:apis\/apps\/v1\/namespaces\/([^/]+)\/(deployments)|api\/v1\/namespaces\/([^/]+)\/(services))(?:\/([^/]+))?$/.exec(path))) {
        const ns = decodeURIComponent(m[1] ?? m[3]!);
        const resource = m[2] ?? m[4]!;
        const name = m[5] === undefined ? undefined : decodeURIComponent(m[5]);
        if (name === undefined && req.method === "GET") {
          if (forbidden.has(`list ${resource} ${ns}`)) return status(res, 403, "Forbidden", `${resource}${resource === "deployments" ? ".apps" : ""} is forbidden: User "fake" cannot list resource "${resource}" in API group "${KINDS[resource]!.group}" in the namespace "${ns}"`);
          const kind = KINDS[resource]!.kind;
          const items = [...objects.entries()].filter(([k]) => k.startsWith(`${kind}/${ns}/`)).map(([, o]) => o);
          return send(res, 200, { kind: `${kind}List`, apiVersion: kind === "Deployment" ? "apps/v1" : "v1", metadata: {}, items: query.limit ? items.slice(0, Number(query.limit)) : items });
        }
        if ((name === undefined && req.method === "POST") || (name !== undefined && ["GET", "PUT", "DELETE"].includes(req.method ?? ""))) return objectRequest(req, res, resource, ns, name, body);
      }
      if ((m = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs$/.exec(path))) {
        const ns = decodeURIComponent(m[1]!);
        if (req.method === "POST") return createJob(ns, body, res);
        if (req.method === "GET") {
          const items = [...jobs.entries()].filter(([k]) => k.startsWith(`${ns}/`) && !k.includes("\u0000")).map(([, j]) => j.object).filter((j) => matches(j.metadata.labels, query.labelSelector));
          return send(res, 200, { kind: "JobList", apiVersion: "batch/v1", metadata: {}, items: query.limit ? items.slice(0, Number(query.limit)) : items });
        }
      }
      if ((m = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs\/([^/]+)$/.exec(path))) {
        const [ns, name] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)];
        if (req.method === "GET") {
          const job = jobs.get(`${ns}/${name}`);
          return job ? send(res, 200, job.object) : status(res, 404, "NotFound", `jobs.batch "${name}" not found`);
        }
        if (req.method === "DELETE") return deleteJob(ns, name, res);
      }
      if (req.method === "GET" && (m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(path))) {
        const items = podsOf(decodeURIComponent(m[1]!))
          .map((p) => p.object)
          .filter((p) => matches(p.metadata.labels, query.labelSelector));
        return send(res, 200, { kind: "PodList", apiVersion: "v1", metadata: {}, items });
      }
      if (req.method === "GET" && (m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(path))) {
        const pod = podsOf(decodeURIComponent(m[1]!)).find((p) => p.object.metadata.name === decodeURIComponent(m![2]!));
        if (!pod) return status(res, 404, "NotFound", `pods "${m[2]}" not found`);
        if (pod.object.status.phase === "Pending") return status(res, 400, "BadRequest", `container "runner" in pod "${m[2]}" is waiting to start: ContainerCreating`);
        res.writeHead(200, { "content-type": "text/plain" });
        return res.end(pod.log);
      }
      status(res, 404, "NotFound", `the fake Kubernetes API server does not implement ${req.method} ${path}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  kubeconfig = join(mkdtempSync(join(tmpdir(), "fake-kube-")), "kubeconfig");
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
  - name: fake
    cluster: { server: "${url}", insecure-skip-tls-verify: true } # plain HTTP on 127.0.0.1: the client wants this said
users:
  - name: fake
    user: { token: "${token}" }
contexts:
  - name: fake
    context: { cluster: fake, user: fake }
  - name: other
    context: { cluster: fake, user: fake }
current-context: fake
`,
    { mode: 0o600 },
  );

  const podOfRun = (run: string) => [...jobs.values()].flatMap((j) => j.pods).find((p) => p.object.metadata.labels?.["slipway.dev/run"] === run);
  return {
    url,
    kubeconfig,
    token,
    requests,
    secrets,
    missingImages,
    objects,
    forbidden,
    conflictOnce,
    get gpus() {
      return state.gpus;
    },
    set gpus(n: number) {
      state.gpus = n;
    },
    job: (run) => [...jobs.entries()].find(([k, j]) => !k.includes("\u0000") && j.object.metadata.labels?.["slipway.dev/run"] === run)?.[1].object,
    pod: (run) => podOfRun(run)?.object,
    oomKill(run) {
      const pod = podOfRun(run);
      if (!pod?.process) throw new Error(`run ${run} has no running pod`);
      pod.forced = { reason: "OOMKilled", exitCode: 137 };
      signalPod(pod, "SIGKILL");
    },
    evict(run) {
      const pod = podOfRun(run);
      if (!pod?.process) throw new Error(`run ${run} has no running pod`);
      pod.object.status = { ...pod.object.status, phase: "Failed", reason: "Evicted", message: "The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki." };
      signalPod(pod, "SIGKILL");
    },
    async close() {
      for (const j of jobs.values()) for (const p of j.pods) signalPod(p, "SIGKILL");
      rmSync(dirname(kubeconfig), { recursive: true, force: true });
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
