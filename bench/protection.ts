// `npm run bench`: how fast the outlet-protection core ticks, on Node and inside the
// DeviceScript WASM VM, so we know a 20 ms protection tick fits an ESP32. Prints figures;
// asserts nothing (timing on shared machines is noisy: see README "Performance").
import { DEVS } from "../src/config/devs.gen"
import { OutletProtection, type ProtectionInput } from "../src/core/outlet-protection"
import { runDevs } from "../scripts/lib/devs-cli"

const TICK_MS = DEVS.ticks.protectionMs

/** The same synthetic load as bench/protection.vm.ts: within budget, overload, cool-down. */
function nodeTicksPerSecond(ticks: number): number {
    const core = new OutletProtection(DEVS)
    const input: ProtectionInput = {
        nowMs: 0,
        mainSwitchOn: true,
        outlets: [
            { powerW: 0, currentA: 0, atMs: 0 },
            { powerW: 0, currentA: 0, atMs: 0 },
        ],
        socPct: 80,
        socAtMs: 0,
    }
    const t0 = process.hrtime.bigint()
    for (let k = 0; k < ticks; k++) {
        const now = (k + 1) * TICK_MS
        const w = 900 + 700 * ((k >> 6) % 3)
        input.nowMs = now
        input.socAtMs = now
        input.outlets[0].powerW = w
        input.outlets[0].currentA = w / 100
        input.outlets[0].atMs = now
        input.outlets[1].powerW = 300
        input.outlets[1].currentA = 3
        input.outlets[1].atMs = now
        core.tick(input)
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9
    return ticks / s
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b)
    return s[Math.floor(s.length / 2)]
}

nodeTicksPerSecond(200_000) // warm-up (JIT)
const node = median([1, 2, 3, 4, 5].map(() => nodeTicksPerSecond(1_000_000)))
console.log(`Node ${process.version}: ${Math.round(node).toLocaleString("en")} protection ticks/s (${(1e6 / node).toFixed(2)} us/tick, median of 5 x 1,000,000)`)

const vmRuns: { ticks: number; elapsedMs: number; emptyMs: number }[] = []
for (let i = 0; i < 3; i++) {
    const res = await runDevs(["run", "bench/protection.vm.ts", "--test", "--test-self-exit", "-T", "600000"])
    const m = /BENCH (\{.*\})/.exec(res.output)
    if (res.code !== 0 || !m) {
        process.stdout.write(res.output)
        console.error("VM benchmark failed")
        process.exit(1)
    }
    vmRuns.push(JSON.parse(m[1]))
}
const perTickUs = median(vmRuns.map(r => ((r.elapsedMs - r.emptyMs) * 1000) / r.ticks))
console.log(
    `DeviceScript WASM VM (this machine): ${Math.round(1e6 / perTickUs).toLocaleString("en")} ticks/s ` +
        `(${perTickUs.toFixed(0)} us/tick, median of 3 x ${vmRuns[0].ticks} ticks, yield overhead subtracted)`,
)
const budgetUs = TICK_MS * 1000
console.log(
    `A ${TICK_MS} ms tick uses ${((perTickUs / budgetUs) * 100).toFixed(2)} % of one core here; ` +
        `at 10x / 100x slower on an ESP32: ${((perTickUs * 10 * 100) / budgetUs).toFixed(1)} % / ${((perTickUs * 100 * 100) / budgetUs).toFixed(0)} %`,
)
