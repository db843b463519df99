// `--broker mqtt[s]://[USER[:PASS]@]HOST[:PORT]` and `--mqtt-prefix P` -> the firmware's device
// settings (src/core/hems/mqtt-settings.ts keys). The firmware validates them again at boot, with the
// same rules; this only turns the URL into settings and refuses what the URL cannot mean.
import { DEVS } from "../src/config/devs.gen"
import { hostProblem, prefixProblem } from "../src/core/hems/mqtt-settings"

export type BrokerSettings = {
    mqttHost: string
    mqttPort: number
    mqttTls: boolean
    mqttUser?: string
    mqttPass?: string
    mqttPrefix?: string
}

/** The settings, or why the URL or prefix is not usable. */
export function brokerSettings(url: string, prefix?: string): BrokerSettings | string {
    let u: URL
    try {
        u = new URL(url)
    } catch {
        return `${JSON.stringify(url)} is not a URL (mqtt://HOST:PORT or mqtts://HOST:PORT)`
    }
    if (u.protocol !== "mqtt:" && u.protocol !== "mqtts:") return `${JSON.stringify(u.protocol)}: the scheme must be mqtt: (plain TCP) or mqtts: (TLS)`
    if (u.pathname && u.pathname !== "/") return `${JSON.stringify(u.pathname)}: no path allowed (the topic prefix is --mqtt-prefix)`
    const tls = u.protocol === "mqtts:"
    const host = u.hostname.replace(/^\[|\]$/g, "")
    const why = host ? hostProblem(host) : "missing"
    if (why) return `host ${JSON.stringify(host)}: ${why}`
    const s: BrokerSettings = { mqttHost: host, mqttPort: u.port ? Number(u.port) : tls ? DEVS.mqtt.defaultTlsPort : DEVS.mqtt.defaultPort, mqttTls: tls }
    if (u.username) s.mqttUser = decodeURIComponent(u.username)
    if (u.password) s.mqttPass = decodeURIComponent(u.password)
    if (prefix !== undefined) {
        const p = prefixProblem(prefix)
        if (p) return `prefix ${JSON.stringify(prefix)}: ${p}`
        s.mqttPrefix = prefix
    }
    return s
}
