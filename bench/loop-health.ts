// npm run bench:loop-health [-- --rate N --seconds S]
// The firmware's own loop health (src/core/common/loop-health.ts) while its MQTT link handles
// N commands/s (default 100; the hardening issue's flood is --rate 1000 --seconds 10): the real
// bytecode in the in-process VM, in real time (sockets and a fake clock do not mix), against a
// loopback aedes broker on an ephemeral port. A HEMS client publishes valid setpoint commands for
// S seconds after the firmware has connected. Figures: the worst lateness under load (each loop's
// recent window, from the last status document received during the load) and the worst since
// boot (v2h_status: summary.json's loop_health). Noisy: this machine is shared; run it twice and
// quote the range.
import { createServer } from "node:net"
import { parseArgs } from "node:util"
import { Aedes } from "aedes"
import mqtt from "mqtt"
import { SIM_DEVICE_ID, simulate } from "../sim/engine"
import { buildFirmware } from "../sim/firmware"
import { validateScenario } from "../sim/scenario/validate"
import { settingsFlash } from "../sim/vm/settings"

// npm run bench:loop-health -- [--rate COMMANDS_PER_S (default 100)] [--seconds S (default 20)]
const { values: opts } = parseArgs({ options: { rate: { type: "string" }, seconds: { type: "string" } }, strict: true })
const RATE_PER_S = Number(opts.rate ?? 100)
const LOAD_S = Number(opts.seconds ?? 20)
for (const [name, v] of [["--rate", RATE_PER_S], ["--seconds", LOAD_S]] as const)
    if (!Number.isInteger(v) || v < 1 || v > 5000) {
        console.error(`bench:loop-health: ${name} ${JSON.stringify(opts[name.slice(2) as "rate" | "seconds"])}: must be a whole number 1..5000`)
        process.exit(2)
    }
const PREFIX = `charger/${SIM_DEVICE_ID}`

const broker = await Aedes.createBroker()
const server = createServer(broker.handle)
await new Promise<void>(r => server.listen(0, "127.0.0.1", () => r()))
const port = (server.address() as any).port
let firmwareUp = false
broker.on("client", (c: any) => {
    if (String(c.id).startsWith("devs_")) firmwareUp = true
})
const sc = validateScenario(
    { name: "loop-health-mqtt", duration_s: LOAD_S + 15, trace_interval_ms: 250, initial: { soc_pct: 70, house_w: 4000 }, events: [] },
    "loop-health.json",
)
const flash = await settingsFlash({ mqttHost: "127.0.0.1", mqttPort: port, mqttTls: false, mqttPrefix: PREFIX }, SIM_DEVICE_ID)
const hems = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 })
await new Promise(r => hems.once("connect", r))
// The firmware's status document carries each loop's recent lateness (the last one to two
// ticks.loopHealthWindowMs windows): the figure under load, without the boot's.
let loopsUnderLoad: any = null
let loadRunning = false
hems.subscribe(`${PREFIX}/status`)
hems.on("message", (topic: string, payload: Buffer) => {
    if (!loadRunning || topic !== `${PREFIX}/status`) return
    try {
        const doc = JSON.parse(payload.toString())
        if (doc.loops) loopsUnderLoad = doc.loops
    } catch {
        // a status document cut short is not a figure
    }
})
let sent = 0
const load = (async () => {
    while (!firmwareUp) await new Promise(r => setTimeout(r, 50))
    await new Promise(r => setTimeout(r, 2000))
    const t0 = performance.now()
    loadRunning = true
    while (performance.now() - t0 < LOAD_S * 1000) {
        const due = Math.floor(((performance.now() - t0) / 1000) * RATE_PER_S)
        for (; sent < due; sent++) hems.publish(`${PREFIX}/cmd`, JSON.stringify({ mode: "setpoint", setpoint_w: 1000 + (sent % 10) * 100 }))
        await new Promise(r => setTimeout(r, 5))
    }
    loadRunning = false
})()
const run = await simulate(sc, { bytecode: await buildFirmware(sc.config), flash, speed: "realtime" })
await load
hems.end(true)
await new Promise<void>(r => server.close(() => r()))
await new Promise<void>(r => broker.close(() => r()))
const h: any = run.loopHealth ?? {}
console.log(`MQTT load: ${sent} commands in ${LOAD_S} s (${(sent / LOAD_S).toFixed(0)}/s), firmware connected: ${firmwareUp}`)
const recent = (loop: string) => (loopsUnderLoad?.[loop]?.recent_late_ms ?? "?") + " ms"
console.log("| loop | worst lateness under load (VM, recent window) | longest lateness since boot (VM) | longest run since boot (VM) |\n|---|---:|---:|---:|")
console.log(`| protection tick (${sc.config.ticks.protectionMs} ms) | ${recent("protection")} | ${h.protection_max_late_ms} ms | ${h.protection_max_run_ms} ms |`)
console.log(`| V2H tick (${sc.config.ticks.v2hMs} ms) | ${recent("v2h")} | ${h.v2h_max_late_ms} ms | ${h.v2h_max_run_ms} ms |`)
console.log(`| supervisory tick (${sc.config.ticks.supervisoryMs} ms) | ${recent("supervisory")} | ${h.supervisory_max_late_ms} ms | - |`)
console.log(`| MQTT command handler | - | - | ${h.mqtt_max_run_ms} ms |`)
console.log(`recent window: ${sc.config.ticks.loopHealthWindowMs} ms (the last status received during the load)`)
console.log(`overruns: ${h.loop_overruns}`)
process.exit(0)
