// Runs the outlet-protection core inside the DeviceScript VM for bench/protection.ts, which
// measures the VM's processing time between the PHASE lines this prints. A plain program (no
// test harness, so no GC stress): phase "empty" is the same slicing and yields without the core.
import * as ds from "@devicescript/core"
import { DEVS } from "../src/config/devs.gen"
import { OutletProtection, ProtectionInput } from "../src/core/outlet-protection"

const TICKS = 20000
const SLICE = 10 // ticks between yields (the VM panics after ~128K opcodes without one)

async function main() {
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
    console.log("PHASE start")
    for (let d = 0; d < TICKS; d += SLICE) {
        for (let k = 0; k < SLICE; k++) input.nowMs = d + k
        await ds.sleep(0)
    }
    console.log("PHASE empty " + TICKS)
    for (let d = 0; d < TICKS; d += SLICE) {
        for (let k = 0; k < SLICE; k++) {
            const now = (d + k + 1) * DEVS.ticks.protectionMs
            // The same synthetic load as the Node bench: within budget, overload, cool-down.
            const w = 900 + 700 * (((d + k) >> 6) % 3)
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
        await ds.sleep(0)
    }
    console.log("PHASE ticks " + TICKS)
}
await main()
