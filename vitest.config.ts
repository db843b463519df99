import { defineConfig } from "vitest/config"

export default defineConfig({
    test: {
        include: ["tests/unit/**/*.test.ts", "tests/sim/**/*.test.ts"],
        // Property tests run thousands of simulated minutes; give them room on a 2-core machine.
        testTimeout: 120_000,
    },
})
