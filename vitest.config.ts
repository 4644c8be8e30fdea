import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // The summary reporter prints the closing "N passed, N failed" line CI counts.
    reporters: ["default", "./test/summary-reporter.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "test/unit/**/*.test.ts"],
        },
      },
      {
        // The compiled CLI without a Docker engine (local HTTP server, temp dirs): fast, runs with the unit tests.
        test: {
          name: "cli",
          include: ["test/cli/**/*.test.ts"],
          globalSetup: ["./test/global-setup.ts"],
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          globalSetup: ["./test/global-setup.ts", "./test/e2e-cache-scope.ts"],
          // One real engine, two cores: e2e files run one after another.
          fileParallelism: false,
          testTimeout: 15 * 60_000,
          hookTimeout: 30 * 60_000,
        },
      },
    ],
  },
});
