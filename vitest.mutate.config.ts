// Mutation testing (npm run mutate) uses the Node unit tests only: the closed-loop simulator
// tests rebuild the firmware bytecode and would not see Stryker's in-memory mutants anyway.
import { defineConfig } from "vitest/config"

export default defineConfig({
    test: {
        include: ["tests/unit/**/*.test.ts"],
        testTimeout: 120_000,
    },
})
