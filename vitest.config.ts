import { availableParallelism } from "node:os"
import { defineConfig } from "vitest/config"

export default defineConfig({
    test: {
        include: ["tests/unit/**/*.test.ts", "tests/sim/**/*.test.ts"],
        // Property tests run thousands of simulated minutes; give them room on a 2-core machine.
        testTimeout: 120_000,
        // Unpacks the npm Chromium once before the workers start (tests/helpers/global-setup.ts).
        globalSetup: ["tests/helpers/global-setup.ts"],
        // Many files run the firmware in the VM in real time (MQTT, TLS, ECHONET end to end): at
        // most 3 at once whatever the machine (vitest's default is one per core but one), so a
        // many-core CI runner does not turn its load into their jitter.
        maxWorkers: Math.max(1, Math.min(3, availableParallelism() - 1)),
    },
})
