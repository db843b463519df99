// `npm run test:mosquitto`: the MQTT attack suite (tests/mosquitto/) against the system's mosquitto
// (Debian: apt-get install mosquitto). When mosquitto is not installed it says so and exits 0,
// unless --require is given (CI installs it, so there a missing mosquitto is a failure).
// Exit code: vitest's. Prints "mosquitto: N passed, N failed" or "mosquitto: SKIPPED (...)".
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ROOT } from "./lib/devs-config.js"

export interface MosquittoResult {
    skipped: string
    passed: number
    failed: number
}

export function mosquittoAvailable(): boolean {
    const r = spawnSync(process.env.MOSQUITTO ?? "mosquitto", ["-h"], { stdio: "ignore" })
    return !r.error
}

export function runMosquittoSuite(): MosquittoResult {
    if (!mosquittoAvailable())
        return { skipped: "mosquitto is not installed (Debian: apt-get install mosquitto; or set MOSQUITTO=/path/to/mosquitto)", passed: 0, failed: 0 }
    const report = join(mkdtempSync(join(tmpdir(), "vitest-mosquitto-")), "report.json")
    const res = spawnSync(join(ROOT, "node_modules", ".bin", "vitest"), ["run", "-c", "vitest.mosquitto.config.ts", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`], {
        cwd: ROOT,
        stdio: "inherit",
    })
    try {
        const r = JSON.parse(readFileSync(report, "utf8"))
        const failed = r.numFailedTests + (res.status !== 0 && r.numFailedTests === 0 ? 1 : 0)
        return { skipped: "", passed: r.numPassedTests, failed: r.numPassedTests === 0 ? Math.max(1, failed) : failed }
    } catch {
        return { skipped: "", passed: 0, failed: 1 }
    }
}

if (import.meta.url === `file://${process.argv[1]}`) {
    const r = runMosquittoSuite()
    if (r.skipped) {
        console.log(`mosquitto: SKIPPED (${r.skipped})`)
        process.exit(process.argv.includes("--require") ? 1 : 0)
    }
    console.log(`mosquitto: ${r.passed} passed, ${r.failed} failed`)
    process.exit(r.failed ? 1 : 0)
}
