// Runs the outlet-protection core inside the DeviceScript VM and reports its tick rate.
// Started by bench/protection.ts; prints one "BENCH {json}" line. Not a test: no pass/fail.
import * as ds from "@devicescript/core"
import { describe, test } from "@devicescript/test"
import { DEVS } from "../src/config/devs.gen"
import { OutletProtection, ProtectionInput } from "../src/core/outlet-protection"

const TICKS = 4000
const SLICE = 10 // ticks between yields (the VM panics after ~128K opcodes without one)

describe("bench", () => {
    test("outlet protection ticks", async () => {
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
        let busyMs = 0
        let done = 0
        const start = ds.millis()
        while (done < TICKS) {
            const t0 = ds.millis()
            for (let k = 0; k < SLICE; k++) {
                const now = (done + k + 1) * DEVS.ticks.protectionMs
                // A load that moves through the bands: within budget, overload, cool-down.
                const w = 900 + 700 * (((done + k) >> 6) % 3)
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
            busyMs += ds.millis() - t0
            done += SLICE
            await ds.sleep(0)
        }
        const elapsedMs = ds.millis() - start
        // An empty pass (same slicing and yields, no core tick) measures the harness overhead.
        const e0 = ds.millis()
        for (let d = 0; d < TICKS; d += SLICE) {
            for (let k = 0; k < SLICE; k++) input.nowMs = d + k
            await ds.sleep(0)
        }
        const emptyMs = ds.millis() - e0
        console.log("BENCH " + JSON.stringify({ ticks: done, busyMs: busyMs, elapsedMs: elapsedMs, emptyMs: emptyMs }))
    })
})
