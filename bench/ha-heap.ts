// `npx tsx bench/ha-heap.ts [--ref <git ref>]`: the firmware's live GC heap while it announces
// Home Assistant discovery and at rest after it: the firmware in the VM in real time (the
// tests/sim/scenarios/ha-discovery.json plant, 25 s) against a broker in this process (aedes,
// loopback, free port), the heap read by the simulator's monitor (sim/vm/vm-monitor.ts).
// --ref builds src/ as it is at that commit instead (e.g. to compare with main); generated config
// modules are taken from the working tree. Prints figures; asserts nothing (real time: noisy).
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs"
import { execFileSync } from "node:child_process"
import { createServer } from "node:net"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { Aedes } from "aedes"
import mqtt from "mqtt"
import { ROOT } from "../scripts/lib/devs-config"
import { runDevs } from "../scripts/lib/devs-cli"
import { SIM_DEVICE_ID, simulate } from "../sim/engine"
import { buildFirmware } from "../sim/firmware"
import { loadScenario } from "../sim/scenario/load"
import { settingsFlash } from "../sim/vm/settings"

const { values } = parseArgs({ options: { ref: { type: "string" } } })

/** src/ at a commit, compiled in a folder of its own (the repository's scenario config only). */
async function bytecodeAt(ref: string): Promise<Uint8Array> {
    const dir = join(ROOT, ".devicescript", "bench-ha-heap")
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    const tar = execFileSync("git", ["archive", ref, "src", "devsconfig.json"], { cwd: ROOT })
    execFileSync("tar", ["-x", "-C", dir], { input: tar })
    for (const f of readdirSync(join(ROOT, "src", "config"))) if (f.endsWith(".gen.ts")) cpSync(join(ROOT, "src", "config", f), join(dir, "src", "config", f))
    for (const d of ["node_modules", "services"]) symlinkSync(join(ROOT, d), join(dir, d))
    const res = await runDevs(["build", "--quiet", "src/main.ts"], { cwd: dir })
    if (res.code !== 0) throw new Error(`build of ${ref} failed:\n${res.output}`)
    return new Uint8Array(readFileSync(join(dir, ".devicescript", "bin", "bytecode.devs")))
}

const scenario = loadScenario(join(ROOT, "tests", "sim", "scenarios", "ha-discovery.json"))
const bytecode = values.ref ? await bytecodeAt(values.ref) : await buildFirmware(scenario.config)
const broker = await Aedes.createBroker()
const server = createServer(broker.handle)
await new Promise<void>(r => server.listen(0, "127.0.0.1", () => r()))
const port = (server.address() as any).port
const flash = await settingsFlash({ mqttHost: "127.0.0.1", mqttPort: port, mqttTls: false }, SIM_DEVICE_ID)
const ha = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 })
await new Promise(r => ha.once("connect", r))
const configAtS: number[] = []
let t0 = 0
ha.on("message", topic => topic.endsWith("/config") && configAtS.push((performance.now() - t0) / 1000))
await ha.subscribeAsync(`${scenario.config.mqtt.homeAssistant.defaultPrefix}/#`)
t0 = performance.now()
const run = await simulate({ ...scenario, durationS: 25 }, { bytecode, speed: "realtime", flash })
ha.end(true)
for (const c of Object.values((broker as any).clients ?? {})) (c as any).conn.destroy()
server.close()
broker.close()

const first = configAtS[0], last = configAtS[configAtS.length - 1]
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`
const during = run.heap.samples.filter(x => x.tS >= first - 0.5 && x.tS <= last + 0.5).map(x => x.liveBytes)
const rest = run.heap.samples.filter(x => x.tS >= last + 3).map(x => x.liveBytes).sort((a, b) => a - b)
console.log(`firmware: ${values.ref ? `src/ at ${values.ref}` : "working tree"}; ${configAtS.length} discovery configs from ${first.toFixed(1)} to ${last.toFixed(1)} s (real time)`)
console.log(`live heap while announcing: peak ${kb(Math.max(...during))}`)
console.log(`live heap at rest (from ${(last + 3).toFixed(1)} s, ${rest.length} samples): min ${kb(rest[0])}, median ${kb(rest[rest.length >> 1])}, max ${kb(rest[rest.length - 1])}`)
console.log(`heap ${run.heap.overall!.heapBytes} bytes; firmware panics: ${run.warnings.filter(w => w.includes("panic")).length}`)
process.exit(0)
