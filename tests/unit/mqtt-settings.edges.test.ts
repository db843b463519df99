// The broker settings (src/core/hems/mqtt-settings.ts) at their edges: the longest accepted
// values, the first and last allowed character of each class, the exact problem messages (which
// describe private values by type and length only), the port's range, and redaction.
import { describe, expect, it } from "vitest"
import { DEVS } from "../../src/config/devs.gen"
import {
    hostProblem,
    MAX_CREDENTIAL_CHARS,
    MAX_HOST_CHARS,
    MAX_PREFIX_CHARS,
    MQTT_SETTING_KEYS,
    prefixProblem,
    redact,
    resolveMqttSettings,
    secretsOf,
} from "../../src/core/hems/mqtt-settings"

const M = DEVS.mqtt
const ID = "c0ffee00c0ffee01"
const resolve = (stored: any) => resolveMqttSettings(stored, M, ID)
const DEFAULT_PREFIX = `${M.defaultPrefix}/${ID}`

describe("host", () => {
    it("accepts letters, digits, '.', '-' and ':' (IPv6 literals) up to 253 characters", () => {
        for (const h of ["a", "Z", "0", "9", "z.example", "AZaz09", "fe80::1", "::1", "10.0.0.2", "a-b", "h".repeat(MAX_HOST_CHARS)])
            expect(hostProblem(h), h).toBe("")
        expect(MAX_HOST_CHARS).toBe(253)
        expect(hostProblem("h".repeat(254))).toBe("longer than 253 characters")
    })

    it("refuses every other character, naming its position", () => {
        // The neighbours of each allowed range: '/' and ';' around the digits and ':', '@' and '[' around
        // the capitals, '`' and '{' around the small letters, ',' and '/' around '-' and '.'.
        for (const c of ["/", ";", "@", "[", "`", "{", ",", " ", "_", "\u00e9"])
            expect(hostProblem("ab" + c), JSON.stringify(c)).toBe("character 3 is not allowed in a host name (letters, digits, '.', '-', ':')")
    })

    it("must not start with '.' or '-', may end with them", () => {
        expect(hostProblem(".a")).toBe("must start with a letter, a digit or ':'")
        expect(hostProblem("-a")).toBe("must start with a letter, a digit or ':'")
        expect(hostProblem("a.")).toBe("")
        expect(hostProblem("a-")).toBe("")
    })

    it("a bad host is reported by type and length, never by value; the link stays off", () => {
        expect(resolve({ mqttHost: "my broker" })).toEqual({
            settings: expect.objectContaining({ host: "" }),
            problems: ["setting mqttHost: a text of 9 characters: character 3 is not allowed in a host name (letters, digits, '.', '-', ':'); using no broker (MQTT off)"],
            badKeys: ["mqttHost"],
        })
        expect(resolve({ mqttHost: null }).problems).toEqual(["setting mqttHost: must be a text (host name or IP address), got null; using no broker (MQTT off)"])
        expect(resolve({ mqttHost: ["h"] }).problems).toEqual(["setting mqttHost: must be a text (host name or IP address), got an array; using no broker (MQTT off)"])
        expect(resolve({ mqttHost: 5 }).problems).toEqual(["setting mqttHost: must be a text (host name or IP address), got a number; using no broker (MQTT off)"])
        expect(resolve({ mqttHost: "broker" }).settings.host).toBe("broker")
    })
})

describe("port and TLS", () => {
    it("accepts 1 and 65535, refuses 0, 65536 and fractions, with the default for the transport", () => {
        expect(resolve({ mqttPort: 1 }).settings.port).toBe(1)
        expect(resolve({ mqttPort: 65535 }).settings.port).toBe(65535)
        for (const port of [0, 65536, 80.5, NaN, "1883"]) {
            const r = resolve({ mqttPort: port, mqttTls: false })
            expect(r.settings.port).toBe(M.defaultPort)
            expect(r.badKeys).toEqual(["mqttPort"])
        }
        expect(resolve({ mqttPort: 0, mqttTls: false }).problems).toEqual(["setting mqttPort: a number: must be a whole number 1..65535; using the default port for TCP"])
        expect(resolve({ mqttPort: "8883" }).problems).toEqual(["setting mqttPort: a text of 4 characters: must be a whole number 1..65535; using the default port for TLS"])
        expect(resolve({ mqttPort: 65536, mqttTls: true }).settings.port).toBe(M.defaultTlsPort)
    })

    it("TLS must be a boolean; the message shows the value (it is not private)", () => {
        expect(resolve({ mqttTls: true }).settings).toMatchObject({ tls: true, port: M.defaultTlsPort })
        expect(resolve({ mqttTls: false }).settings).toMatchObject({ tls: false, port: M.defaultPort })
        expect(resolve({ mqttTls: "yes" }).problems).toEqual([`setting mqttTls: = "yes": must be true or false; using the default (${M.defaultTls})`])
        expect(resolve({ mqttTls: 1 }).settings.tls).toBe(M.defaultTls)
    })
})

describe("user and password", () => {
    it("take printable ASCII from space to '~', up to 64 characters", () => {
        const longest = "~".repeat(MAX_CREDENTIAL_CHARS)
        expect(MAX_CREDENTIAL_CHARS).toBe(64)
        expect(resolve({ mqttUser: " u~", mqttPass: longest })).toEqual({
            settings: expect.objectContaining({ user: " u~", password: longest }),
            problems: [],
            badKeys: [],
        })
        expect(resolve({ mqttUser: longest }).settings.user).toBe(longest)
    })

    it("refuse a control character, DEL and beyond, naming the position only", () => {
        expect(resolve({ mqttUser: "ab\u001f" }).problems).toEqual(["setting mqttUser: a text of 3 characters: character 3 is not printable ASCII; using no user name"])
        expect(resolve({ mqttUser: "a\u007f" }).problems).toEqual(["setting mqttUser: a text of 2 characters: character 2 is not printable ASCII; using no user name"])
        expect(resolve({ mqttUser: "\u00e9" }).settings.user).toBe("")
        expect(resolve({ mqttUser: "u", mqttPass: "p\u0000" }).problems).toEqual([
            "setting mqttPass: a text of 2 characters: character 2 is not printable ASCII; using no password",
        ])
        expect(resolve({ mqttUser: "x".repeat(65) }).problems).toEqual(["setting mqttUser: a text of 65 characters: longer than 64 characters; using no user name"])
        expect(resolve({ mqttUser: "u", mqttPass: "x".repeat(65) }).settings.password).toBe("")
    })

    it("refuse a value that is not a text, by type", () => {
        expect(resolve({ mqttUser: 7 }).problems).toEqual(["setting mqttUser: a number: must be a text; using no user name"])
        expect(resolve({ mqttUser: "u", mqttPass: false }).problems).toEqual(["setting mqttPass: a boolean: must be a text; using no password"])
        expect(resolve({ mqttUser: "u", mqttPass: { p: 1 } }).problems).toEqual(["setting mqttPass: an object: must be a text; using no password"])
    })

    it("a password needs a user name; an empty one does not", () => {
        expect(resolve({ mqttPass: "pw" })).toEqual({
            settings: expect.objectContaining({ user: "", password: "" }),
            problems: ["setting mqttPass: is set but there is no valid user name (MQTT sends a password only with a user name); using no password"],
            badKeys: ["mqttPass"],
        })
        expect(resolve({ mqttUser: "bad\u0001", mqttPass: "pw" }).badKeys).toEqual(["mqttUser", "mqttPass"])
        expect(resolve({ mqttPass: "" })).toMatchObject({ problems: [], badKeys: [], settings: { password: "" } })
    })
})

describe("topic prefixes", () => {
    it("accept letters, digits, '-', '_' and '/' between levels, up to 64 characters", () => {
        for (const p of ["a", "Z9", "a-b_c/d", "AZaz09", "x/y/z", "p".repeat(MAX_PREFIX_CHARS)]) expect(prefixProblem(p), p).toBe("")
        expect(MAX_PREFIX_CHARS).toBe(64)
        expect(prefixProblem("p".repeat(65))).toBe("longer than 64 characters")
        expect(prefixProblem("")).toBe("must not be empty")
    })

    it("refuse any other character by character and position, wildcards included", () => {
        for (const c of ["+", "#", " ", ".", ":", "@", "[", "`", "{", ",", "\u00e9"])
            expect(prefixProblem("ab" + c), JSON.stringify(c)).toBe(
                `character ${JSON.stringify(c)} at 3 is not allowed (letters, digits, '-', '_', '/'; no MQTT wildcards)`,
            )
    })

    it("refuse an empty level: leading, trailing or double '/'", () => {
        for (const p of ["/a", "a/", "a//b", "/"]) expect(prefixProblem(p), p).toBe("no empty topic level (no leading, trailing or double '/')")
    })

    it("a bad stored prefix is shown (cut at 40 characters) with the default used", () => {
        expect(resolve({ mqttPrefix: "a/+" }).problems).toEqual([
            `setting mqttPrefix: = "a/+": character "+" at 3 is not allowed (letters, digits, '-', '_', '/'; no MQTT wildcards); using the default "${DEFAULT_PREFIX}"`,
        ])
        const long = "q".repeat(40) + "#"
        expect(resolve({ mqttPrefix: long }).problems).toEqual([
            `setting mqttPrefix: = "${"q".repeat(40)}...": character "#" at 41 is not allowed (letters, digits, '-', '_', '/'; no MQTT wildcards); using the default "${DEFAULT_PREFIX}"`,
        ])
        const forty = "q".repeat(39) + "#"
        expect(resolve({ mqttPrefix: forty }).problems[0]).toContain(`= "${forty}": character "#" at 40`)
        expect(resolve({ mqttPrefix: 3 }).problems).toEqual([`setting mqttPrefix: must be a text, got 3; using the default "${DEFAULT_PREFIX}"`])
        expect(resolve({ mqttPrefix: "site/ev-1" }).settings.prefix).toBe("site/ev-1")
    })

    it("the same for the discovery prefix", () => {
        const H = M.homeAssistant
        expect(resolve({ mqttHaPrefix: "ha/+" }).problems).toEqual([
            `setting mqttHaPrefix: = "ha/+": character "+" at 4 is not allowed (letters, digits, '-', '_', '/'; no MQTT wildcards); using the default "${H.defaultPrefix}"`,
        ])
        const long = "h".repeat(40) + "/"
        expect(resolve({ mqttHaPrefix: long }).problems).toEqual([
            `setting mqttHaPrefix: = "${"h".repeat(40)}...": no empty topic level (no leading, trailing or double '/'); using the default "${H.defaultPrefix}"`,
        ])
        const forty = "h".repeat(39) + "/"
        expect(resolve({ mqttHaPrefix: forty }).problems[0]).toContain(`= "${forty}": no empty topic level`)
        expect(resolve({ mqttHaPrefix: null }).problems).toEqual([`setting mqttHaPrefix: must be a text, got null; using the default "${H.defaultPrefix}"`])
        expect(resolve({ mqttHaPrefix: "disc/ha" }).settings.haPrefix).toBe("disc/ha")
        expect(resolve({ mqttHa: "no" }).problems).toEqual([`setting mqttHa: = "no": must be true or false; using the default (${H.defaultEnabled})`])
        for (const on of [true, false]) expect(resolve({ mqttHa: on })).toMatchObject({ problems: [], settings: { haDiscovery: on } })
    })
})

describe("the keys the shell reads", () => {
    it("are every key the resolver uses, each within the 13 characters of @devicescript/settings", () => {
        const flash: any = { mqttHost: "broker.lan", mqttPort: 1884, mqttTls: true, mqttUser: "u", mqttPass: "p", mqttPrefix: "site/ev", mqttHa: false, mqttHaPrefix: "disc" }
        // As src/hems-mqtt.ts does: read each listed key from flash, then resolve.
        const stored: any = {}
        for (const key of MQTT_SETTING_KEYS) stored[key] = flash[key]
        expect(resolve(stored)).toEqual({
            settings: { host: "broker.lan", port: 1884, tls: true, user: "u", password: "p", prefix: "site/ev", haDiscovery: false, haPrefix: "disc" },
            problems: [],
            badKeys: [],
        })
        expect([...MQTT_SETTING_KEYS].sort()).toEqual(Object.keys(flash).sort())
        for (const key of MQTT_SETTING_KEYS) expect(key.length, key).toBeLessThanOrEqual(13)
    })
})

describe("several bad values", () => {
    it("each is reported in turn and listed for deletion; the good ones are kept", () => {
        const r = resolve({ mqttHost: "b", mqttPort: 0, mqttTls: "x", mqttUser: 1, mqttPass: 2, mqttPrefix: "/", mqttHa: 0, mqttHaPrefix: "" })
        expect(r.badKeys).toEqual(["mqttTls", "mqttPort", "mqttUser", "mqttPass", "mqttPrefix", "mqttHa", "mqttHaPrefix"])
        expect(r.problems).toHaveLength(7)
        expect(r.settings.host).toBe("b")
    })
})

describe("secrets and redaction", () => {
    it("the host, user, password and ':port' are secrets; nothing when no broker is set", () => {
        expect(secretsOf(resolve({ mqttHost: "h1", mqttPort: 1884, mqttUser: "u", mqttPass: "p" }).settings)).toEqual(["h1", "u", "p", ":1884"])
        expect(secretsOf(resolve({}).settings)).toEqual([])
        expect(secretsOf(resolve({ mqttUser: "u" }).settings)).toEqual(["u"])
    })

    it("replaces every occurrence, also back to back and overlapping with the replacement, skips empty secrets", () => {
        expect(redact("abab-ab", ["ab"])).toBe("******-***")
        expect(redact("x**y", ["*"])).toBe("x******y")
        expect(redact("keep", ["", "zz"])).toBe("keep")
        expect(redact("pp", ["p"])).toBe("******")
        expect(redact("host:8883 host", ["host", ":8883"])).toBe("****** ***")
    })
})
