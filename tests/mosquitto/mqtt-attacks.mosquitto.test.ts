// The relayed MQTT attacks (tests/helpers/relayed-attacks.ts) against the system's mosquitto
// (Debian package `mosquitto`) with its default configuration: a config file of our own that only
// opens a listener on a free loopback port and allows anonymous clients (mosquitto 2 refuses them
// otherwise). No message size limit: the firmware must not need one.
// Run by `npm run test:mosquitto` (scripts/test-mosquitto.ts), which says so when mosquitto is missing.
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { relayedAttackSuite } from "../helpers/relayed-attacks"
import { sleep } from "../helpers/mqtt-attack-kit"

async function freePort(): Promise<number> {
    const s = createServer()
    await new Promise<void>(r => s.listen(0, "127.0.0.1", () => r()))
    const port = (s.address() as any).port
    await new Promise(r => s.close(r))
    return port
}

relayedAttackSuite("mosquitto", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mosquitto-"))
    const port = await freePort()
    const conf = join(dir, "mosquitto.conf")
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\n`)
    const child = spawn(process.env.MOSQUITTO ?? "mosquitto", ["-c", conf], { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", b => (output += b))
    child.stderr.on("data", b => (output += b))
    const exited = new Promise(r => child.on("exit", r))
    // Up when it accepts a connection.
    const { connect } = await import("node:net")
    for (let i = 0; ; i++) {
        const ok = await new Promise<boolean>(r => {
            const c = connect(port, "127.0.0.1", () => (c.end(), r(true)))
            c.on("error", () => r(false))
        })
        if (ok) break
        if (i > 50 || child.exitCode !== null) throw new Error(`mosquitto did not start: ${output}`)
        await sleep(100)
    }
    return {
        port,
        async stop() {
            child.kill("SIGTERM")
            await exited
            rmSync(dir, { recursive: true, force: true })
        },
    }
})
