import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Command } from "commander";
import { envCacheDir } from "../env.js";
import { ReportedFailure, UsageError, errorMessage } from "../errors.js";
import { diagnose, type VerdictCache } from "../host/doctor.js";
import { addSample, describeForecast, forecast, type Forecast, type Sample } from "../host/forecast.js";
import { readBootId, renderMetrics, sampleOf, writeAtomically } from "../host/metrics.js";
import { defaultStateFile, loadSamples, saveSamples } from "../host/samples-state.js";
import { jsonOption } from "./options.js";
import type { CommandRuntime } from "./runtime.js";

const MARK = { ok: "ok  ", risk: "RISK", info: "info" } as const;

/** HOST:PORT as `--listen` takes it (IPv6 hosts in brackets). */
export function parseListen(value: string): { host: string; port: number } {
  const m = value.match(/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):(\d{1,5})$/i);
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new UsageError(`--listen ${value}: expected HOST:PORT, such as 0.0.0.0:9746 or 127.0.0.1:9746`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, "$1"), port };
}

/** Diagnoses the node and adds the sample to `samples` (the current series): the report and its forecast. */
async function diagnoseAndSample(root: string, samples: Sample[], verdicts?: VerdictCache) {
  const report = await diagnose(root, { verdicts });
  const sample = sampleOf(report, Date.now(), await readBootId(root));
  const kept = sample ? addSample(samples, sample) : samples;
  return { report, samples: kept, forecast: sample ? forecast(kept) : undefined };
}

/** The forecast as the JSON report carries it, or why there is none. */
const forecastLine = (fc: Forecast | undefined, stateFile: string) =>
  !fc
    ? "no forecast: the kernel keeps no v1 memory cgroup count here"
    : (describeForecast(fc) ?? `first sample of this series, kept in ${stateFile}: run doctor again later (hourly, say) for the leak rate and when this node reaches the limit`);

export function registerDoctorCommand(program: Command, rt: CommandRuntime): void {
  const doctor = program
    .command("doctor")
    .description("diagnose a node: kernel, memory cgroup leak and its forecast, kmem under kubepods, the runc and kubelet it runs (exit 0 healthy, 1 at risk or leaking)")
    .option("--root <dir>", "the node's root (for a mounted node image)", "/")
    .option("--metrics <file>", "also write the report as Prometheus text exposition to FILE (for node_exporter's textfile collector)")
    .option("--state <file>", "where the samples for the leak forecast are kept (default: /var/lib/nokmem-build as root, else the cache directory)")
    .addOption(jsonOption("the report"))
    .action(async (flags: { root: string; metrics?: string; state?: string; json?: boolean }) => {
      const root = path.resolve(flags.root);
      const stateFile = path.resolve(flags.state ?? defaultStateFile(envCacheDir()));
      const loaded = await loadSamples(stateFile, root).catch((err: Error) => ({ samples: [], problem: `cannot read ${stateFile}: ${errorMessage(err)}` }));
      if (loaded.problem) rt.warn(loaded.problem);
      const { report, samples, forecast: fc } = await diagnoseAndSample(root, loaded.samples);
      if (fc) await saveSamples(stateFile, root, samples).catch((err: Error) => rt.warn(`cannot keep the sample for the forecast: ${errorMessage(err)}`));
      if (flags.metrics) {
        const file = path.resolve(flags.metrics);
        await writeAtomically(file, await renderMetrics(report, fc));
        rt.progress(`metrics written to ${file}`);
      }
      if (flags.json) rt.printJson({ ...report, forecast: fc ?? null });
      else {
        rt.print(`node ${report.root}: kernel ${report.kernel}, cgroup ${report.cgroup}`);
        for (const f of report.findings) {
          rt.print(`${MARK[f.status]} ${f.topic}: ${f.summary}`);
          if (f.next && f.status === "risk") rt.print(`     next: ${f.next}`);
        }
        rt.print(`${fc?.secondsUntilLimit != null ? MARK.risk : MARK.info} forecast: ${forecastLine(fc, stateFile)}`);
      }
      if (!report.healthy) throw new ReportedFailure("the node is at risk or leaking: follow the next steps above");
    });

  doctor
    .command("serve")
    .description("serve doctor's metrics over HTTP at /metrics (a sample per scrape, the forecast kept in memory); /healthz answers ok")
    .requiredOption("--listen <addr>", "HOST:PORT to listen on, e.g. 0.0.0.0:9746", parseListen)
    .action(async (flags: { listen: { host: string; port: number } }, cmd: Command) => {
      const root = path.resolve((cmd.optsWithGlobals() as { root: string }).root);
      const verdicts: VerdictCache = new Map();
      // Fail now, with exit 2, on a --root that is not a node root, rather than on every scrape.
      await diagnose(root, { verdicts });
      let samples: Sample[] = [];
      let queue: Promise<unknown> = Promise.resolve();
      const scrape = () => {
        const next = queue.then(async () => {
          const result = await diagnoseAndSample(root, samples, verdicts);
          samples = result.samples;
          return renderMetrics(result.report, result.forecast);
        });
        queue = next.catch(() => undefined);
        return next;
      };
      const server = createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://localhost");
        if (req.method !== "GET" && req.method !== "HEAD") return void res.writeHead(405, { allow: "GET, HEAD" }).end();
        if (url.pathname === "/healthz") return void res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
        if (url.pathname !== "/metrics") return void res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics\n");
        scrape().then(
          (text) => res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(text),
          (err: Error) => {
            rt.warn(`scrape failed: ${errorMessage(err)}`);
            res.writeHead(500, { "content-type": "text/plain" }).end(`${errorMessage(err)}\n`);
          },
        );
      });
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(flags.listen.port, flags.listen.host, () => resolve());
      });
      const addr = server.address() as AddressInfo;
      rt.progress(`serving metrics for ${root} at http://${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}/metrics`);
      await new Promise<void>((resolve) => (rt.signal.aborted ? resolve() : rt.signal.addEventListener("abort", () => resolve(), { once: true })));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
}
