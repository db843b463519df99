// TLS to a real broker: aedes behind Node's TLS server with a self-signed certificate made here
// (openssl), the simulator CLI (`npm run sim -- ... --broker mqtts://...`) in a child process, and
// mqtt.js as the HEMS.
//
// The firmware's TLS is the VM host's: DeviceScript's WASM VM opens sockets with Node's
// tls.connect({host, port}) and default options, so the certificate is verified against Node's
// CA store, which NODE_EXTRA_CA_CERTS extends when the process starts. So: with the certificate
// in NODE_EXTRA_CA_CERTS the firmware connects and follows a command; without it the handshake is
// refused (verification is on) and no message from the firmware reaches the broker.
import { execFileSync, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createServer, type Server } from "node:tls"
import { Aedes } from "aedes"
import mqtt, { type MqttClient } from "mqtt"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ROOT } from "../../scripts/lib/devs-config"

const SCENARIO = join(ROOT, "tests", "sim", "scenarios", "mqtt-tls.json")
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

let dir: string
let cert: Buffer
let server: Server
let broker: Aedes
let port = 0
let hems: MqttClient
const received: { topic: string; text: string }[] = []
let handshakeErrors = 0

/** Runs the simulator CLI on the TLS broker; resolves with its exit code and output. */
function runSim(prefix: string, out: string, extraCa: boolean, onOutput?: (s: string) => void): Promise<{ code: number; output: string }> {
    const env = { ...process.env }
    delete env.NODE_EXTRA_CA_CERTS
    if (extraCa) env.NODE_EXTRA_CA_CERTS = join(dir, "cert.pem")
    const child = spawn(
        process.execPath,
        ["--import", "tsx", join(ROOT, "sim", "cli.ts"), SCENARIO, "--broker", `mqtts://127.0.0.1:${port}`, "--mqtt-prefix", prefix, "--out", out],
        { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] },
    )
    let output = ""
    const take = (b: Buffer) => {
        output += b.toString()
        onOutput?.(output)
    }
    child.stdout.on("data", take)
    child.stderr.on("data", take)
    return new Promise(res => child.on("close", code => res({ code: code ?? 1, output })))
}

function traceColumn(out: string, column: string): [number, number][] {
    const [head, ...lines] = readFileSync(join(out, "trace.csv"), "utf8").trim().split("\n")
    const cols = head.split(",")
    const t = cols.indexOf("t_s")
    const c = cols.indexOf(column)
    return lines.map(l => l.split(",")).map(f => [Number(f[t]), Number(f[c])])
}

beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mqtt-tls-"))
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", "2",
        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { cwd: dir, stdio: "ignore" })
    cert = readFileSync(join(dir, "cert.pem"))
    broker = await Aedes.createBroker()
    server = createServer({ key: readFileSync(join(dir, "key.pem")), cert }, broker.handle)
    server.on("tlsClientError", () => handshakeErrors++)
    await new Promise<void>(r => server.listen(0, "127.0.0.1", () => r()))
    port = (server.address() as any).port
    hems = mqtt.connect(`mqtts://127.0.0.1:${port}`, { ca: cert, reconnectPeriod: 500 })
    hems.on("message", (topic, p) => received.push({ topic, text: p.toString() }))
    await new Promise(r => hems.once("connect", r))
    await hems.subscribeAsync("tls/#")
}, 30_000)

afterAll(async () => {
    hems?.end(true)
    await new Promise(r => server?.close(r))
    await new Promise(r => broker?.close(r))
    if (dir) rmSync(dir, { recursive: true, force: true })
})

describe("TLS broker with a self-signed certificate", () => {
    it("trusted (NODE_EXTRA_CA_CERTS): the firmware connects over TLS and the inverter follows a command", async () => {
        const out = join(dir, "ok")
        let commanded = false
        const sim = runSim("tls/ok", out, true)
        // Command once the firmware's telemetry arrives.
        const drive = (async () => {
            const end = Date.now() + 40_000
            while (!received.some(m => m.topic === "tls/ok/telemetry") && Date.now() < end) await sleep(50)
            hems.publish("tls/ok/cmd", JSON.stringify({ mode: "setpoint", setpoint_w: 2500 }))
            commanded = true
        })()
        const r = await sim
        await drive
        expect(r.code, r.output).toBe(0)
        expect(commanded).toBe(true)
        expect(received.filter(m => m.topic === "tls/ok/event").map(m => JSON.parse(m.text).event)).toContain("command_accepted")
        const last = traceColumn(out, "inverter_w").filter(([t]) => t >= 10)
        expect(last.length).toBeGreaterThan(5)
        const mean = last.reduce((a, [, w]) => a + w, 0) / last.length
        expect(mean).toBeGreaterThan(2400)
        expect(mean).toBeLessThan(2600)
    }, 90_000)

    it("untrusted (no extra CA): the firmware's handshake is refused; nothing from it reaches the broker", async () => {
        const before = handshakeErrors
        const r = await runSim("tls/untrusted", join(dir, "untrusted"), false)
        expect(r.code, r.output).toBe(0)
        expect(received.filter(m => m.topic.startsWith("tls/untrusted/"))).toEqual([])
        expect(handshakeErrors).toBeGreaterThan(before)
    }, 90_000)
})
