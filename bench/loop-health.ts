// npm run bench:loop-health
// The firmware's own loop health (src/core/common/loop-health.ts) while its MQTT link handles
// 100 commands/s: the real bytecode in the in-process VM, in real time (sockets and a fake clock
// do not mix), against a loopback aedes broker on an ephemeral port. A HEMS client publishes a
// valid setpoint command every 10 ms for LOAD_S seconds after the firmware has connected; the
// figures are the worst of the run, read from v2h_status (summary.json's loop_health). Noisy:
// this machine is shared; run it twice and quote the range.
import { createServer } from "node:net"
import { Aedes } from "aedes"
import mqtt from "mqtt"
import { SIM_DEVICE_ID, simulate } from "../sim/engine"
import { buildFirmware } from "../sim/firmware"
import { validateScenario } from "../sim/scenario/validate"
import { settingsFlash } from "../sim/vm/settings"

const LOAD_S = 20
const RATE_PER_S = 100
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
let sent = 0
const load = (async () => {
    while (!firmwareUp) await new Promise(r => setTimeout(r, 50))
    await new Promise(r => setTimeout(r, 2000))
    const t0 = performance.now()
    while (performance.now() - t0 < LOAD_S * 1000) {
        const due = Math.floor(((performance.now() - t0) / 1000) * RATE_PER_S)
        for (; sent < due; sent++) hems.publish(`${PREFIX}/cmd`, JSON.stringify({ mode: "setpoint", setpoint_w: 1000 + (sent % 10) * 100 }))
        await new Promise(r => setTimeout(r, 5))
    }
})()
const run = await simulate(sc, { bytecode: await buildFirmware(sc.config), flash, speed: "realtime" })
await load
hems.end(true)
await new Promise<void>(r => server.close(() => r()))
await new Promise<void>(r => broker.close(() => r()))
const h: any = run.loopHealth ?? {}
console.log(`MQTT load: ${sent} commands in ${LOAD_S} s (${(sent / LOAD_S).toFixed(0)}/s), firmware connected: ${firmwareUp}`)
console.log("| loop | longest lateness (VM) | longest run (VM) |\n|---|---:|---:|")
console.log(`| protection tick (${sc.config.ticks.protectionMs} ms) | ${h.protection_max_late_ms} ms | ${h.protection_max_run_ms} ms |`)
console.log(`| V2H tick (${sc.config.ticks.v2hMs} ms) | ${h.v2h_max_late_ms} ms | ${h.v2h_max_run_ms} ms |`)
console.log(`| supervisory tick (${sc.config.ticks.supervisoryMs} ms) | ${h.supervisory_max_late_ms} ms | - |`)
console.log(`| MQTT command handler | - | ${h.mqtt_max_run_ms} ms |`)
console.log(`overruns: ${h.loop_overruns}`)
process.exit(0)
