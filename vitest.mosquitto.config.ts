import { defineConfig } from "vitest/config"

// `npm run test:mosquitto` (scripts/test-mosquitto.ts): the attack suite against the system's mosquitto.
export default defineConfig({
    test: {
        include: ["tests/mosquitto/**/*.test.ts"],
        testTimeout: 120_000,
    },
})
