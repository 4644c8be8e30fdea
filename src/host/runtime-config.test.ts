import { describe, expect, it } from "vitest";
import { containerdRunc, dockerDaemonRunc, sysconfigDockerRunc } from "./runtime-config.js";

describe("the runc a node's engine configuration names", () => {
  it("dockerd: the default runtime's path, or nothing when it is the built-in runc on PATH", () => {
    expect(dockerDaemonRunc(`{"default-runtime":"nokmem","runtimes":{"nokmem":{"path":"/opt/bin/runc"}}}`)).toEqual({ path: "/opt/bin/runc", source: "/etc/docker/daemon.json runtimes.nokmem.path" });
    expect(dockerDaemonRunc(`{"runtimes":{"runc":{"path":"/usr/libexec/docker/docker-runc"}}}`)?.path).toBe("/usr/libexec/docker/docker-runc");
    expect(dockerDaemonRunc(`{"runtimes":{"nvidia":{"path":"nvidia-container-runtime"}}}`)).toBeUndefined();
    expect(dockerDaemonRunc(`{"log-driver":"json-file"}`)).toBeUndefined();
    expect(dockerDaemonRunc("{not json")).toBeUndefined();
  });

  it("RHEL's docker 1.13: --add-runtime and --default-runtime in /etc/sysconfig/docker", () => {
    const sysconfig = `OPTIONS='--selinux-enabled --log-driver=journald --signature-verification=false'\nADD_RUNTIMES="--add-runtime docker-runc=/usr/libexec/docker/docker-runc-current --default-runtime=docker-runc"\n`;
    expect(sysconfigDockerRunc(sysconfig)).toEqual({ path: "/usr/libexec/docker/docker-runc-current", source: "/etc/sysconfig/docker --add-runtime docker-runc=" });
    expect(sysconfigDockerRunc("OPTIONS='--selinux-enabled'\n")).toBeUndefined();
  });

  it("containerd: BinaryName in the runc runtime's options (v2), runtime under [plugins.linux] (v1); comments and defaults ignored", () => {
    const v2 = `version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n  runtime_type = "io.containerd.runc.v2"\n  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n    # BinaryName = "/nope"\n    BinaryName = "/usr/local/bin/runc-nokmem"\n    SystemdCgroup = true\n`;
    expect(containerdRunc(v2)).toEqual({ path: "/usr/local/bin/runc-nokmem", source: `/etc/containerd/config.toml [plugins.io.containerd.grpc.v1.cri.containerd.runtimes.runc.options] BinaryName` });
    expect(containerdRunc(`[plugins.linux]\n  shim = "containerd-shim"\n  runtime = "/usr/bin/docker-runc"\n`)?.path).toBe("/usr/bin/docker-runc");
    expect(containerdRunc(`[plugins.linux]\n  runtime = "runc"\n`)).toBeUndefined();
    expect(containerdRunc(`[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  BinaryName = ""\n`)).toBeUndefined();
    expect(containerdRunc(`[metrics]\n  runtime = "/usr/bin/x"\n`)).toBeUndefined();
  });
});
