// `npm run bench`: how fast the outlet-protection core ticks, on Node and inside the
// DeviceScript WASM VM, so we know a 20 ms protection tick fits an ESP32. Prints figures;
// asserts nothing (timing on shared machines is noisy: see docs/measured-figures.md).
import { DEVS } from "../src/config/devs.gen"
import { OutletProtection } from "../src/core/outlet-protection"
import { benchInput, loadTick } from "./synthetic-load"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { ROOT } from "../scripts/lib/devs-config"
import { runDevs } from "../scripts/lib/devs-cli"
import { createVm, deploy } from "../sim/vm/devs-vm"

const TICK_MS = DEVS.ticks.protectionMs

function nodeTicksPerSecond(ticks: number): number {
    const core = new OutletProtection(DEVS)
    const input = benchInput()
    const t0 = process.hrtime.bigint()
    for (let k = 0; k < ticks; k++) {
        loadTick(input, k, TICK_MS)
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

/**
 * Runs bench/protection.vm.ts in the in-process VM and returns microseconds per core tick.
 * The VM runs the program's fibers inside one scheduler step while they stay runnable, and
 * prints synchronously, so the wall time between the PHASE lines is VM processing time. The
 * "empty" phase (same slicing and yields, no core) is subtracted.
 */
async function vmUsPerTick(bytecode: Uint8Array, gcStress: boolean): Promise<number> {
    const marks: Record<string, bigint> = {}
    let done: () => void
    let failed: (e: Error) => void
    const finished = new Promise<void>((resolve, reject) => {
        done = resolve
        failed = reject
    })
    const vm = await createVm({
        gcStress,
        onLog: line => {
            const m = /PHASE (\w+)/.exec(line)
            if (m) marks[m[1]] = process.hrtime.bigint()
            if (m?.[1] === "ticks") done()
        },
        onPanic: code => failed(new Error(`VM panic ${code}`)),
    })
    deploy(vm, bytecode)
    await finished
    vm.devsStop()
    const empty = Number(marks.empty - marks.start)
    const ticks = Number(marks.ticks - marks.empty)
    return (ticks - empty) / 1000 / VM_TICKS
}

const VM_TICKS = 20000
const build = await runDevs(["build", "--quiet", "bench/protection.vm.ts"])
if (build.code !== 0) {
    process.stdout.write(build.output)
    process.exit(1)
}
const bytecode = readFileSync(join(ROOT, ".devicescript", "bin", "bytecode.devs"))
const runs: number[] = []
for (let i = 0; i < 3; i++) runs.push(await vmUsPerTick(bytecode, false))
const perTickUs = median(runs)
const stress = await vmUsPerTick(bytecode, true)
console.log(
    `DeviceScript WASM VM, in process (this machine): ${Math.round(1e6 / perTickUs).toLocaleString("en")} ticks/s ` +
        `(${perTickUs.toFixed(1)} us/tick, median of 3 x ${VM_TICKS} ticks; with GC stress as in --test: ${stress.toFixed(0)} us/tick)`,
)
const budgetUs = TICK_MS * 1000
console.log(
    `A ${TICK_MS} ms tick uses ${((perTickUs / budgetUs) * 100).toFixed(2)} % of one core here; ` +
        `if an ESP32 runs the VM 10x / 100x slower: ${((perTickUs * 10 * 100) / budgetUs).toFixed(1)} % / ${((perTickUs * 100 * 100) / budgetUs).toFixed(0)} %`,
)
// Leave the firmware build in place for whoever runs the firmware next.
await runDevs(["build", "--quiet", "src/main.ts"])
