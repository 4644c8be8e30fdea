import { Listr, ListrLogger, PRESET_TIMER, PRESET_TIMESTAMP, ProcessOutput, type ListrRendererValue, type ListrTask } from "listr2";

/** tty: animated task list; plain: timestamped lines (CI, pipes, DEBUG); silent: nothing (--json). */
export type RenderMode = "tty" | "plain" | "silent";

export function renderMode(json: boolean): RenderMode {
  if (json) return "silent";
  // Progress goes to stderr, so it is stderr that must be a terminal for the animated list.
  return process.stderr.isTTY && !process.env.CI && !process.env.DEBUG ? "tty" : "plain";
}

type AnyRenderer = ListrRendererValue;

/** A listr2 task list rendered for `mode`; the one place the renderer is chosen. */
export function taskList(
  tasks: ListrTask<unknown>[],
  mode: RenderMode,
  opts: { concurrent: number | false; exitOnError: boolean },
): Listr<unknown, AnyRenderer, AnyRenderer> {
  const renderer = mode === "tty" ? "default" : mode === "plain" ? "simple" : "silent";
  // Progress and logs on stderr only: stdout carries results, which scripts read.
  const processOutput = new ProcessOutput(process.stderr, process.stderr);
  const rendererOptions =
    mode === "tty" ? { timer: PRESET_TIMER, showSkipMessage: true, processOutput } : mode === "plain" ? { timestamp: PRESET_TIMESTAMP, logger: new ListrLogger({ useIcons: true, processOutput }) } : {};
  return new Listr<unknown, AnyRenderer, AnyRenderer>(tasks, {
    ...opts,
    renderer,
    rendererOptions,
    // Our own signal handler stops builds and removes their containers; listr2 would exit at once.
    registerSignalListeners: false,
    collectErrors: false,
  });
}
