// `npm run bench:sim [-- --hours H]`: real-time factor of the simulator on bench/day-24h.json
// (24 h of outlet use, the firmware's normal tick rates: 20 ms protection, 250 ms supervisory),
// or on its first H hours. Prints figures; asserts nothing.
import { join } from "node:path"
import { parseArgs } from "node:util"
import { ROOT } from "../scripts/lib/devs-config"
import { simulate } from "../sim/engine"
import { buildFirmware } from "../sim/firmware"
import { loadScenario } from "../sim/scenario/load"

const { values } = parseArgs({ options: { hours: { type: "string", default: "24" } } })
const hours = Number(values.hours)
if (!(hours > 0 && hours <= 24)) {
    console.error(`--hours ${values.hours}: must be a number in (0, 24]`)
    process.exit(2)
}
const scenario = loadScenario(join(ROOT, "bench", "day-24h.json"))
scenario.durationS = Math.round(hours * 3600)
scenario.events = scenario.events.filter(e => e.atS <= scenario.durationS)
scenario.expectations = []
const bytecode = await buildFirmware()
const cpu0 = process.cpuUsage()
let lastPrint = 0
const run = await simulate(scenario, {
    bytecode,
    onProgress: s => {
        if (s - lastPrint >= 3600) {
            lastPrint = s
            process.stderr.write(`  ${(s / 3600).toFixed(0)} h simulated\n`)
        }
    },
})
const cpu = process.cpuUsage(cpu0)
const rtf = scenario.durationS / run.wallS
console.log(`simulated ${hours} h of bench/day-24h.json in ${run.wallS.toFixed(1)} s wall: ${rtf.toFixed(0)}x real time`)
console.log(`CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s; ${run.rows.length} trace rows; trips ${run.trips.length}; warnings ${run.warnings.length}`)
console.log(`a simulated day would take ${(86400 / rtf / 60).toFixed(1)} min at this rate`)
