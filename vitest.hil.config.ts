import { defineConfig } from "vitest/config"

// The HIL bench tests (tests/hil): real time against the stand-in board, one file at a time and
// alone (npm test runs them as their own step, after the other suites), so that the machine's
// load does not become the bench's jitter.
export default defineConfig({
    test: {
        include: ["tests/hil/**/*.test.ts"],
        fileParallelism: false,
        testTimeout: 600_000,
        hookTimeout: 180_000,
    },
})
