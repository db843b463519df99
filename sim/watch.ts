// npm run watch [-- <scenario.json>]
// For people who want to watch and poke: starts the DeviceScript devtools (a Jacdac hub on
// 127.0.0.1:8081/8082 and the dashboard), the firmware in a DeviceScript VM connected to that
// hub, and the simulated plant connected to it too, in real time. Open the devtools page it
// prints to see the roles, the ChargerControl service and the plant's servers, and to poke
// them. Ctrl+C stops all three.
import { spawn, type ChildProcess } from "node:child_process"
import { connect } from "node:net"
import { join, resolve } from "node:path"
import { ROOT } from "../scripts/lib/devs-config"
import { DEVS_CLI } from "../scripts/lib/devs-cli"
import { simulate } from "./engine"
import { loadScenarioOrExit } from "./scenario/load"
import { DEVTOOLS_TCP_PORT } from "./tcp-link"

const DEFAULT_WATCH_SCENARIO = join(ROOT, "sim", "scenarios", "outlet-shedding.json")
const children: ChildProcess[] = []

function start(args: string[], name: string): ChildProcess {
    const child = spawn(process.execPath, [DEVS_CLI, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] })
    child.stdout!.on("data", d => process.stdout.write(`[${name}] ${d}`))
    child.stderr!.on("data", d => process.stdout.write(`[${name}] ${d}`))
    children.push(child)
    return child
}

function stopAll() {
    for (const c of children) if (c.pid && c.exitCode === null) c.kill()
}
process.on("SIGINT", () => {
    stopAll()
    process.exit(130)
})
process.on("exit", stopAll)

async function waitForPort(port: number, timeoutMs: number) {
    const t0 = Date.now()
    while (Date.now() - t0 < timeoutMs) {
        const ok = await new Promise<boolean>(r => {
            const s = connect(port, "127.0.0.1")
            s.on("connect", () => (s.destroy(), r(true)))
            s.on("error", () => r(false))
        })
        if (ok) return
        await new Promise(r => setTimeout(r, 250))
    }
    throw new Error(`the devtools hub did not open port ${port} within ${timeoutMs / 1000} s`)
}

const file = resolve(process.argv[2] ?? DEFAULT_WATCH_SCENARIO)
const scenario = loadScenarioOrExit(file)
start(["devtools", "src/main.ts"], "devtools")
await waitForPort(DEVTOOLS_TCP_PORT, 30_000)
start(["run", "src/main.ts", "--tcp"], "firmware")
console.log(`plant: ${scenario.name} in real time (${scenario.durationS} s); devtools: http://127.0.0.1:8081/ ; Ctrl+C to stop`)
const run = await simulate(scenario, { hubPort: DEVTOOLS_TCP_PORT, speed: "realtime" })
for (const t of run.trips) console.log(`trip: outlet ${t.outlet} ${t.reason} at ${t.tS.toFixed(2)} s`)
stopAll()
