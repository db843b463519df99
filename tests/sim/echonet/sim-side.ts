// Child process of tests/sim/echonet-e2e.test.ts, run inside the gateway's network namespace: a
// real MQTT broker (aedes) on that namespace's loopback, and the firmware bytecode in the
// DeviceScript VM in real time against the simulated plant, connected to that broker. Talks to
// the test over the IPC channel: {broker: port}, then {started: wall ms}, then {done: trace}.
import { createServer } from "node:net"
import { join } from "node:path"
import { Aedes } from "aedes"
import { ROOT } from "../../../scripts/lib/devs-config"
import { SIM_DEVICE_ID, simulate } from "../../../sim/engine"
import { buildFirmware } from "../../../sim/firmware"
import { loadScenario } from "../../../sim/scenario/load"
import { settingsFlash } from "../../../sim/vm/settings"

const send = (m: any) => process.send!(m)

async function main() {
    const scenario = loadScenario(join(ROOT, "tests", "sim", "scenarios", "echonet-hems.json"))
    const bytecode = await buildFirmware(scenario.config)
    const broker = await Aedes.createBroker()
    const server = createServer(broker.handle)
    await new Promise<void>(r => server.listen(0, "127.0.0.1", () => r()))
    const port = (server.address() as any).port
    const flash = await settingsFlash({ mqttHost: "127.0.0.1", mqttPort: port, mqttTls: false }, SIM_DEVICE_ID)
    send({ broker: port, prefix: `charger/${SIM_DEVICE_ID}` })
    // Wait until the test has the gateway and the controller up, then run the firmware.
    await new Promise<void>(r => process.once("message", () => r()))
    send({ started: Date.now() })
    const warnings: string[] = []
    const run = await simulate(scenario, { bytecode, speed: "realtime", flash, onVmLog: l => l.includes("panic") && warnings.push(l) })
    send({ done: { rows: run.rows, warnings: [...run.warnings, ...warnings] } })
    for (const c of Object.values((broker as any).clients)) (c as any).conn.destroy()
    server.close()
    broker.close()
    setTimeout(() => process.exit(0), 200)
}

main().catch(e => {
    send({ error: String(e?.stack ?? e) })
    process.exit(1)
})
