import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { createNodeTree } from "../fixtures/node-trees.js";
import { ROOT, cli, removeDir, run, tempDir } from "../helpers.js";
import { gaugeValue, parseExposition } from "../prometheus.js";

// deploy/daemonset.yaml, read as Kubernetes would, and its container run on the real engine the way the kubelet
// would start it: the exact args, host PID, the recorded node tree as the host's / read-only at /host, a
// read-only root, the capabilities it names. Network none (this sandbox) and no --privileged (neither is asked for).
interface Container {
  image: string;
  args: string[];
  command?: string[];
  ports: Array<{ name: string; containerPort: number }>;
  livenessProbe: { httpGet: { path: string; port: string | number } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: { privileged?: boolean; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[]; add?: string[] } };
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}

let work: string;
let image: string;
let ds: {
  kind: string;
  spec: { template: { spec: { hostPID?: boolean; tolerations: Array<Record<string, string>>; containers: Container[]; volumes: Array<{ name: string; hostPath?: { path: string } }> } } };
};
const started: string[] = [];

beforeAll(async () => {
  work = await tempDir("deploy");
  ds = parse(await readFile(path.join(ROOT, "deploy/daemonset.yaml"), "utf8"));
  const res = await cli(["node-image", "--json"]);
  expect(res.code, res.stderr).toBe(0);
  image = JSON.parse(res.stdout).image;
});

afterAll(async () => {
  for (const id of started) await run("docker", ["rm", "-f", id]).catch(() => undefined);
  await removeDir(work);
});

/** Runs `code` with the image's Node.js inside the container: the only way in with network none. */
const execNode = (id: string, code: string) => run("docker", ["exec", id, "node", "-e", code]).then((r) => r.stdout);
const get = (id: string, port: number, urlPath: string) =>
  execNode(id, `fetch("http://127.0.0.1:${port}${urlPath}").then(async (r) => process.stdout.write(r.status + "\\n" + (await r.text())), (e) => process.stdout.write("000\\n" + e.message))`).then((out) => {
    const [status, ...body] = out.split("\n");
    return { status: Number(status), body: body.join("\n") };
  });

describe("deploy/daemonset.yaml", () => {
  it("is a DaemonSet for every node: host PID, host / read-only at /host, a named metrics port with a liveness probe on it, small limits", () => {
    expect(ds.kind).toBe("DaemonSet");
    const pod = ds.spec.template.spec;
    expect(pod.hostPID).toBe(true);
    expect(pod.tolerations).toContainEqual({ operator: "Exists" });
    const [c] = pod.containers;
    expect(pod.containers).toHaveLength(1);
    expect(c!.image).toBe("NOKMEM_NODE_IMAGE");
    const port = c!.ports.find((p) => p.name === "metrics")!;
    expect(c!.args).toEqual(["doctor", "serve", "--listen", `0.0.0.0:${port.containerPort}`, "--root", "/host"]);
    expect(c!.livenessProbe.httpGet.port).toBe("metrics");
    const hostVolume = pod.volumes.find((v) => v.hostPath?.path === "/")!;
    expect(c!.volumeMounts).toContainEqual({ name: hostVolume.name, mountPath: "/host", readOnly: true, mountPropagation: "HostToContainer" });
    expect(c!.securityContext.privileged).toBe(false);
    for (const key of ["cpu", "memory"]) {
      expect(c!.resources.requests[key], key).toBeDefined();
      expect(c!.resources.limits[key], key).toBeDefined();
    }
  });

  it("its container, run as specified against a recorded leaking node, serves the metrics and the probe", async () => {
    const tree = path.join(work, "node");
    await createNodeTree(tree, {
      release: "3.10.0-957.21.3.el7.x86_64",
      cmdline: "BOOT_IMAGE=/vmlinuz-3.10.0-957.21.3.el7.x86_64 ro",
      cgroup: "v1",
      countedMemoryCgroups: 61234,
      pods: 4,
      kmemActive: true,
      binaries: {},
    });
    const pod = ds.spec.template.spec;
    const c = pod.containers[0]!;
    const mounts = c.volumeMounts.map((m) => {
      const volume = pod.volumes.find((v) => v.name === m.name)!;
      // The host's path, here the recorded tree standing in for the node's /.
      const source = volume.hostPath!.path === "/" ? tree : volume.hostPath!.path;
      return ["-v", `${source}:${m.mountPath}${m.readOnly ? ":ro" : ""}`];
    });
    const sc = c.securityContext;
    const { stdout } = await run("docker", [
      "run", "-d", "--network", "none",
      ...(pod.hostPID ? ["--pid=host"] : []),
      ...(sc.readOnlyRootFilesystem ? ["--read-only"] : []),
      ...(sc.allowPrivilegeEscalation === false ? ["--security-opt", "no-new-privileges"] : []),
      ...(sc.capabilities?.drop ?? []).flatMap((cap) => ["--cap-drop", cap]),
      ...(sc.capabilities?.add ?? []).flatMap((cap) => ["--cap-add", cap]),
      "--memory", c.resources.limits.memory!.replace(/Mi$/, "m"),
      ...mounts.flat(),
      ...(c.command ? ["--entrypoint", c.command[0]!] : []),
      image, ...(c.command?.slice(1) ?? []), ...c.args,
    ]);
    const id = stdout.trim();
    started.push(id);
    const port = c.ports.find((p) => p.name === c.livenessProbe.httpGet.port)!.containerPort;

    let probe = { status: 0, body: "" };
    for (let i = 0; i < 60 && probe.status !== 200; i++) {
      probe = await get(id, port, c.livenessProbe.httpGet.path);
      if (probe.status !== 200) await new Promise((r) => setTimeout(r, 500));
    }
    expect(probe.status, (await run("docker", ["logs", id])).stderr).toBe(200);

    const metrics = await get(id, port, "/metrics");
    expect(metrics.status).toBe(200);
    const families = parseExposition(metrics.body);
    expect(gaugeValue(families, "nokmem_memory_cgroups_counted")).toBe(61234);
    expect(gaugeValue(families, "nokmem_memory_cgroups_present")).toBe(8);
    expect(gaugeValue(families, "nokmem_memory_cgroups_limit")).toBe(65535);
    expect(gaugeValue(families, "nokmem_kmem_active")).toBe(1);
    expect(gaugeValue(families, "nokmem_kernel_nokmem_option")).toBe(0);
    // Still running: the read-only root and the dropped capabilities did not stop it.
    expect((await run("docker", ["inspect", "-f", "{{.State.Running}}", id])).stdout.trim()).toBe("true");
  });
});
