// MQTT broker settings: which device settings hold them (keys of at most 13 characters, the
// limit of @devicescript/settings), how stored values are validated, and the topic tree.
//
// A stored value that is not valid is reported (key and why) and the default is used instead:
// never the bad value. Broker address and credentials are private: problem messages describe
// them by type and length only, never by value, and `redact` removes them from any text (socket
// error messages carry host and port) before it is logged.
//
// Pure; DeviceScript subset (no regex).
import type { DevsConfig } from "../../config/devs.gen"
import { isFiniteNumber } from "../common/num"

export type MqttConfig = DevsConfig["mqtt"]

/** Device setting keys (JSON values). */
export const KEY_HOST = "mqttHost"
export const KEY_PORT = "mqttPort"
export const KEY_TLS = "mqttTls"
export const KEY_USER = "mqttUser"
export const KEY_PASSWORD = "mqttPass"
export const KEY_PREFIX = "mqttPrefix"
/** Home Assistant discovery on/off (true/false) and its discovery prefix (docs/home-assistant.md). */
export const KEY_HA = "mqttHa"
export const KEY_HA_PREFIX = "mqttHaPrefix"
export const MQTT_SETTING_KEYS = [KEY_HOST, KEY_PORT, KEY_TLS, KEY_USER, KEY_PASSWORD, KEY_PREFIX, KEY_HA, KEY_HA_PREFIX]

/** Longest accepted values (characters). */
export const MAX_HOST_CHARS = 253
export const MAX_CREDENTIAL_CHARS = 64
export const MAX_PREFIX_CHARS = 64
const MIN_PORT = 1
const MAX_PORT = 65535

export interface MqttSettings {
    /** "" = no broker configured: the MQTT link stays off. */
    host: string
    port: number
    tls: boolean
    user: string
    password: string
    prefix: string
    /** Home Assistant MQTT discovery on. */
    haDiscovery: boolean
    /** Home Assistant's discovery prefix (configs go to <haPrefix>/<component>/..., its birth message to <haPrefix>/status). */
    haPrefix: string
}

export interface MqttSettingsResult {
    settings: MqttSettings
    /** One message per bad stored value: the key, why, and the default used instead. */
    problems: string[]
    /** Keys whose stored value was rejected (the shell deletes them so the default applies). */
    badKeys: string[]
}

export interface MqttTopics {
    /** Retained status document (Controller.statusJson). */
    status: string
    /** Retained "true" while connected; the broker publishes the last will "false". */
    online: string
    telemetry: string
    event: string
    /** Commands from the HEMS (JSON, command.ts). */
    cmd: string
}

export function mqttTopics(prefix: string): MqttTopics {
    return {
        status: prefix + "/status",
        online: prefix + "/status/online",
        telemetry: prefix + "/telemetry",
        event: prefix + "/event",
        cmd: prefix + "/cmd",
    }
}

function isDigit(c: number): boolean {
    return c >= 48 && c <= 57
}
function isLetter(c: number): boolean {
    return (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
}

/** "" when s is a host name or an IP address literal (letters, digits, '.', '-', ':'); else why. */
export function hostProblem(s: string): string {
    if (s.length > MAX_HOST_CHARS) return `longer than ${MAX_HOST_CHARS} characters`
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i)
        if (!(isDigit(c) || isLetter(c) || c === 46 || c === 45 || c === 58)) return `character ${i + 1} is not allowed in a host name (letters, digits, '.', '-', ':')`
    }
    if (s.charCodeAt(0) === 46 || s.charCodeAt(0) === 45) return "must start with a letter, a digit or ':'"
    return ""
}

/** "" when s is a usable topic prefix (letters, digits, '-', '_', '/' between non-empty levels); else why. */
export function prefixProblem(s: string): string {
    if (s.length === 0) return "must not be empty"
    if (s.length > MAX_PREFIX_CHARS) return `longer than ${MAX_PREFIX_CHARS} characters`
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i)
        if (!(isDigit(c) || isLetter(c) || c === 45 || c === 95 || c === 47))
            return `character ${JSON.stringify(s.slice(i, i + 1))} at ${i + 1} is not allowed (letters, digits, '-', '_', '/'; no MQTT wildcards)`
        if (c === 47 && (i === 0 || i === s.length - 1 || s.charCodeAt(i - 1) === 47)) return "no empty topic level (no leading, trailing or double '/')"
    }
    return ""
}

/** "" when s is a user name or password the MQTT CONNECT packet can carry as we send it; else why. */
function credentialProblem(s: string): string {
    if (s.length > MAX_CREDENTIAL_CHARS) return `longer than ${MAX_CREDENTIAL_CHARS} characters`
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i)
        if (c < 32 || c > 126) return `character ${i + 1} is not printable ASCII`
    }
    return ""
}

/** A private value described without revealing it. */
function describePrivate(v: any): string {
    if (typeof v === "string") return `a text of ${v.length} characters`
    if (v === null) return "null"
    if (Array.isArray(v)) return "an array"
    const t = typeof v
    return (t === "object" ? "an " : "a ") + t
}

function isWhole(v: any): boolean {
    return isFiniteNumber(v) && Math.round(v) === v
}

/**
 * Validates the stored settings. `stored[key]` is the stored JSON value, undefined when absent.
 * Absent keys take their defaults silently; bad ones are reported and take their defaults.
 */
export function resolveMqttSettings(stored: any, cfg: MqttConfig, deviceId: string): MqttSettingsResult {
    const problems: string[] = []
    const badKeys: string[] = []
    const bad = (key: string, why: string, fallback: string) => {
        problems.push(`setting ${key}: ${why}; using ${fallback}`)
        badKeys.push(key)
    }
    const ha = cfg.homeAssistant
    const s: MqttSettings = {
        host: "",
        port: 0,
        tls: cfg.defaultTls,
        user: "",
        password: "",
        prefix: cfg.defaultPrefix + "/" + deviceId,
        haDiscovery: ha.defaultEnabled,
        haPrefix: ha.defaultPrefix,
    }

    const host = stored[KEY_HOST]
    if (host !== undefined) {
        if (typeof host !== "string") bad(KEY_HOST, `must be a text (host name or IP address), got ${describePrivate(host)}`, "no broker (MQTT off)")
        else {
            const why = hostProblem(host)
            if (why) bad(KEY_HOST, `${describePrivate(host)}: ${why}`, "no broker (MQTT off)")
            else s.host = host
        }
    }

    const tls = stored[KEY_TLS]
    if (tls !== undefined) {
        if (tls === true || tls === false) s.tls = tls
        else bad(KEY_TLS, `= ${JSON.stringify(tls)}: must be true or false`, `the default (${cfg.defaultTls})`)
    }

    const defaultPort = s.tls ? cfg.defaultTlsPort : cfg.defaultPort
    s.port = defaultPort
    const port = stored[KEY_PORT]
    if (port !== undefined) {
        if (!isWhole(port) || port < MIN_PORT || port > MAX_PORT)
            bad(KEY_PORT, `${describePrivate(port)}: must be a whole number ${MIN_PORT}..${MAX_PORT}`, `the default port for ${s.tls ? "TLS" : "TCP"}`)
        else s.port = port
    }

    const user = stored[KEY_USER]
    if (user !== undefined) {
        const why = typeof user !== "string" ? "must be a text" : credentialProblem(user)
        if (why) bad(KEY_USER, `${describePrivate(user)}: ${why}`, "no user name")
        else s.user = user
    }
    const password = stored[KEY_PASSWORD]
    if (password !== undefined) {
        const why = typeof password !== "string" ? "must be a text" : credentialProblem(password)
        if (why) bad(KEY_PASSWORD, `${describePrivate(password)}: ${why}`, "no password")
        else if (password.length > 0 && s.user.length === 0)
            bad(KEY_PASSWORD, "is set but there is no valid user name (MQTT sends a password only with a user name)", "no password")
        else s.password = password
    }

    const prefix = stored[KEY_PREFIX]
    if (prefix !== undefined) {
        const why = typeof prefix !== "string" ? `must be a text, got ${JSON.stringify(prefix)}` : prefixProblem(prefix)
        if (why) bad(KEY_PREFIX, typeof prefix === "string" ? `= ${JSON.stringify(prefix.length > 40 ? prefix.slice(0, 40) + "..." : prefix)}: ${why}` : why, `the default "${s.prefix}"`)
        else s.prefix = prefix
    }

    const haOn = stored[KEY_HA]
    if (haOn !== undefined) {
        if (haOn === true || haOn === false) s.haDiscovery = haOn
        else bad(KEY_HA, `= ${JSON.stringify(haOn)}: must be true or false`, `the default (${ha.defaultEnabled})`)
    }
    const haPrefix = stored[KEY_HA_PREFIX]
    if (haPrefix !== undefined) {
        const why = typeof haPrefix !== "string" ? `must be a text, got ${JSON.stringify(haPrefix)}` : prefixProblem(haPrefix)
        if (why) bad(KEY_HA_PREFIX, typeof haPrefix === "string" ? `= ${JSON.stringify(haPrefix.length > 40 ? haPrefix.slice(0, 40) + "..." : haPrefix)}: ${why}` : why, `the default "${ha.defaultPrefix}"`)
        else s.haPrefix = haPrefix
    }
    return { settings: s, problems, badKeys }
}

/** The texts that must never reach a log, the status or telemetry (non-empty ones). */
export function secretsOf(s: MqttSettings): string[] {
    const out: string[] = []
    if (s.host) out.push(s.host)
    if (s.user) out.push(s.user)
    if (s.password) out.push(s.password)
    if (s.host) out.push(":" + s.port)
    return out
}

/** `text` with every occurrence of each secret replaced by "***". */
export function redact(text: string, secrets: string[]): string {
    let out = text
    for (const secret of secrets) {
        if (!secret) continue
        let i = out.indexOf(secret)
        while (i >= 0) {
            out = out.slice(0, i) + "***" + out.slice(i + secret.length)
            i = out.indexOf(secret, i + 3)
        }
    }
    return out
}
