// Runs the outlet-protection core inside the DeviceScript VM for bench/protection.ts, which
// measures the VM's processing time between the PHASE lines this prints. A plain program (no
// test harness, so no GC stress): phase "empty" is the same slicing and yields without the core.
import * as ds from "@devicescript/core"
import { DEVS } from "../src/config/devs.gen"
import { OutletProtection } from "../src/core/outlets/protection"
import { benchInput, loadTick } from "./synthetic-load"

const TICKS = 20000
const SLICE = 10 // ticks between yields (the VM panics after ~128K opcodes without one)

async function main() {
    const core = new OutletProtection(DEVS)
    const input = benchInput()
    console.log("PHASE start")
    for (let d = 0; d < TICKS; d += SLICE) {
        for (let k = 0; k < SLICE; k++) input.nowMs = d + k
        await ds.sleep(0)
    }
    console.log("PHASE empty " + TICKS)
    for (let d = 0; d < TICKS; d += SLICE) {
        for (let k = 0; k < SLICE; k++) {
            loadTick(input, d + k, DEVS.ticks.protectionMs)
            core.tick(input)
        }
        await ds.sleep(0)
    }
    console.log("PHASE ticks " + TICKS)
}
await main()
