// `npm run gateway:echonet -- --broker mqtt[s]://[USER[:PASS]@]HOST[:PORT] --prefix P [--interface ADDR] [--battery-wh WH]`
// Presents the charger under <prefix>/ on the broker as an ECHONET Lite node (docs/echonet-gateway.md).
// Runs until SIGINT/SIGTERM. A bad argument is named on stderr and the exit code is 2.
import { networkInterfaces } from "node:os"
import { isIPv4 } from "node:net"
import { brokerSettings, type BrokerSettings } from "../../sim/broker-url"
import { DEVS } from "../../src/config/devs.gen"
import { Gateway, GATEWAY_DEFAULTS } from "./gateway"

export const USAGE = `usage: npm run gateway:echonet -- --broker mqtt[s]://[USER[:PASS]@]HOST[:PORT] --prefix PREFIX [--interface ADDR] [--battery-wh WH]
  --broker      the MQTT broker the charger uses (mqtts: TLS; a private CA via NODE_EXTRA_CA_CERTS)
  --prefix      the charger's topic prefix (its mqttPrefix setting; default on the charger: charger/<device id>)
  --interface   IPv4 address of this machine's interface for ECHONET Lite multicast (default: the multicast route's)
  --battery-wh  usable capacity of the vehicle battery for the Wh properties (default ${GATEWAY_DEFAULTS.batteryWh})`

export interface CliArgs {
    broker: BrokerSettings
    prefix: string
    interfaceAddress?: string
    batteryWh: number
}

/** The arguments, or why not (naming the bad value). */
export function parseArgs(argv: string[], localAddresses: string[]): CliArgs | string {
    const seen: Record<string, string> = {}
    const known = ["--broker", "--prefix", "--interface", "--battery-wh"]
    for (let i = 0; i < argv.length; i++) {
        let a = argv[i]
        let v: string | undefined
        const eq = a.indexOf("=")
        if (a.startsWith("--") && eq > 0) {
            v = a.slice(eq + 1)
            a = a.slice(0, eq)
        }
        if (!known.includes(a)) return `unknown argument ${JSON.stringify(argv[i])}`
        if (v === undefined) {
            v = argv[++i]
            if (v === undefined || v.startsWith("--")) return `${a} needs a value`
        }
        if (a in seen) return `${a} given twice`
        seen[a] = v
    }
    if (!seen["--broker"]) return "--broker is required"
    if (seen["--prefix"] === undefined) return "--prefix is required"
    const b = brokerSettings(seen["--broker"], seen["--prefix"])
    if (typeof b === "string") return `--broker/--prefix: ${b}`
    const out: CliArgs = { broker: b, prefix: seen["--prefix"], batteryWh: GATEWAY_DEFAULTS.batteryWh }
    const ifa = seen["--interface"]
    if (ifa !== undefined) {
        if (!isIPv4(ifa)) return `--interface ${JSON.stringify(ifa)}: not an IPv4 address`
        if (!localAddresses.includes(ifa)) return `--interface ${ifa}: no interface of this machine has that address (it has ${localAddresses.join(", ") || "none"})`
        out.interfaceAddress = ifa
    }
    const wh = seen["--battery-wh"]
    if (wh !== undefined) {
        const n = Number(wh)
        if (!/^\d+$/.test(wh) || !(n >= 1000 && n <= 1_000_000)) return `--battery-wh ${JSON.stringify(wh)}: a whole number of Wh, 1000..1000000`
        out.batteryWh = n
    }
    return out
}

function localIPv4(): string[] {
    return Object.values(networkInterfaces())
        .flat()
        .filter(i => i && i.family === "IPv4")
        .map(i => i!.address)
}

async function main() {
    const args = parseArgs(process.argv.slice(2), localIPv4())
    if (typeof args === "string") {
        console.error(`gateway:echonet: ${args}\n${USAGE}`)
        process.exit(2)
    }
    const log = (l: string) => console.log(`${new Date().toISOString()} ${l}`)
    const gw = new Gateway({
        link: { broker: args.broker, prefix: args.prefix, backoff: DEVS.mqtt, commandTimeoutMs: GATEWAY_DEFAULTS.commandTimeoutMs, connectTimeoutMs: DEVS.mqtt.connectTimeoutMs },
        udp: { interfaceAddress: args.interfaceAddress },
        batteryWh: args.batteryWh,
        manufacturerCode: GATEWAY_DEFAULTS.manufacturerCode,
        refreshMs: GATEWAY_DEFAULTS.refreshMs,
        controllerSilenceMs: GATEWAY_DEFAULTS.controllerSilenceMs,
        log,
    })
    try {
        const port = await gw.start()
        log(`ECHONET Lite node 0x0EF001 + 0x027E01 on UDP ${port}${args.interfaceAddress ? ` (multicast on ${args.interfaceAddress})` : ""}; charger ${args.prefix} on ${args.broker.mqttHost}:${args.broker.mqttPort}`)
    } catch (e) {
        console.error(`gateway:echonet: cannot start: ${(e as Error).message}`)
        await gw.stop().catch(() => {})
        process.exit(1)
    }
    let stopping = false
    const stop = async (sig: string) => {
        if (stopping) return
        stopping = true
        log(`${sig}: stopping`)
        await gw.stop()
        process.exit(0)
    }
    process.on("SIGINT", () => void stop("SIGINT"))
    process.on("SIGTERM", () => void stop("SIGTERM"))
}

if (process.argv[1] && /gateway[\\/]echonet[\\/]cli\.ts$/.test(process.argv[1])) void main()
