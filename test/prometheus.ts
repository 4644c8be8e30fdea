// Prometheus text exposition read back with a parser of the format (parse-prometheus-text-format, a port of the
// Python client's parser), so the tests check what Prometheus and node_exporter would read, not our own lines.
import parsePrometheusTextFormat from "parse-prometheus-text-format";

export interface Family {
  name: string;
  help: string;
  type: string;
  metrics: Array<{ value: string; labels?: Record<string, string> }>;
}

/** The families by name. Every sample line must belong to a family with HELP and TYPE. */
export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a line feed");
  const families = (parsePrometheusTextFormat as (t: string) => Family[])(text);
  return new Map(families.map((f) => [f.name, f]));
}

/** The one value of an unlabelled gauge, as a number; undefined when the family is absent. */
export function gaugeValue(families: Map<string, Family>, name: string): number | undefined {
  const f = families.get(name);
  if (!f) return undefined;
  if (f.type !== "GAUGE" || f.metrics.length !== 1) throw new Error(`${name}: expected one gauge sample, got ${f.type} with ${f.metrics.length}`);
  return Number(f.metrics[0]!.value);
}
