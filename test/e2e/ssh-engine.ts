import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { run, waitFor } from "../helpers.js";
import { freePort } from "./registry.js";

/**
 * The local engine as a remote one over ssh: a real sshd (Debian's openssh-server) on loopback, its
 * host key and authorized_keys in `dir`, and an ssh-agent holding the client key, which is how the
 * Docker client authenticates (SSH_AUTH_SOCK). `env` points a client at it.
 */
export async function startSshEngine(dir: string): Promise<{ env: { DOCKER_HOST: string; SSH_AUTH_SOCK: string }; stop(): void }> {
  await mkdir(dir, { recursive: true });
  for (const key of ["host", "client"]) await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, key)]);
  await writeFile(path.join(dir, "authorized_keys"), await readFile(path.join(dir, "client.pub")));
  const port = await freePort();
  const config = [`Port ${port}`, "ListenAddress 127.0.0.1", `HostKey ${dir}/host`, `AuthorizedKeysFile ${dir}/authorized_keys`, "StrictModes no", "PasswordAuthentication no", "UsePAM no", `PidFile ${dir}/sshd.pid`];
  await writeFile(path.join(dir, "sshd_config"), `${config.join("\n")}\n`);
  // sshd wants its privilege-separation directory, which only a booted system makes.
  await mkdir("/run/sshd", { recursive: true });
  const sshd = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", path.join(dir, "sshd_config")], { stdio: "ignore" });
  const agentSocket = path.join(dir, "agent.sock");
  const agent = spawn("ssh-agent", ["-D", "-a", agentSocket], { stdio: "ignore" });
  const stop = () => {
    sshd.kill();
    agent.kill();
  };
  try {
    await waitFor("ssh-agent", async () => existsSync(agentSocket), 10_000);
    await run("ssh-add", ["-q", path.join(dir, "client")], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket } });
    await waitFor("sshd", () => connects(port), 10_000);
  } catch (err) {
    stop();
    throw err;
  }
  const user = (await run("id", ["-un"])).stdout.trim();
  return { env: { DOCKER_HOST: `ssh://${user}@127.0.0.1:${port}`, SSH_AUTH_SOCK: agentSocket }, stop };
}

const connects = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => (socket.destroy(), resolve(true)));
    socket.on("error", () => resolve(false));
  });
