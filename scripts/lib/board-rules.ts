// Strict rules for DeviceScript board files (boards/<id>.board.json). Pure: takes the parsed JSON
// and returns every problem at once; scripts/check-boards.ts reads the files and prints them.
//
// The DeviceScript build (2.16.4) rejects duplicate pins and unknown pin numbers, but silently
// accepts misspelt keys, outputs on input-only pins, strapping pins driving loads at boot and ADC2
// pins used as analog inputs (ADC2 is taken by the Wi-Fi driver). These rules catch them.
//
// Key sets follow the DeviceScript board-config interfaces in @devicescript/cli 2.16.4
// (`DeviceHardwareInfo`, `RelayConfig`, `ButtonConfig`, ... in devicescript-servers.d.ts) plus the
// ESP32 device-config fields (`id`, `archId`, `url`, `$services`, ...). `$charger` is this
// project's own section (relays driven by the inverter driver, the inverter UART, the I2C chips and
// their calibration); DeviceScript ignores `$` keys except for its pin-conflict check.

export interface BoardProblem {
    /** JSON pointer of the offending key ("/services/0/pinFeedback"). */
    path: string
    /** Rule name, e.g. "unknown-key", "input-only-pin". */
    rule: string
    message: string
}

/** Pin facts for one chip family (GPIO numbers). */
export interface ChipPins {
    name: string
    /** GPIOs that exist on the chip. */
    exists: number[]
    /** GPIOs without an output driver. */
    inputOnly: number[]
    /** Strapping pins: sampled at reset, so a load on them may be driven during boot. */
    strapping: number[]
    /** GPIOs wired to the module's SPI flash / PSRAM: never usable. */
    flash: number[]
    /** ADC1 channels (usable with Wi-Fi on). */
    adc1: number[]
    /** ADC2 channels (unusable for analog input while Wi-Fi runs). */
    adc2: number[]
}

function range(a: number, b: number): number[] {
    const out: number[] = []
    for (let i = a; i <= b; i++) out.push(i)
    return out
}

// Sources: Espressif ESP32 datasheet v4.x, sec. 2.2 "Pin Description" and 2.4 "Strapping Pins";
// ESP32-S3 datasheet v1.x, sec. 2.3 "IO Pins" and 2.6 "Strapping Pins" (GPIO0, 3, 45, 46);
// ESP32-C3 datasheet v1.x, sec. 2.3 and 2.5 "Strapping Pins" (GPIO2, 8, 9). ADC channel maps from
// the ESP-IDF ADC docs of each chip. Flash pins from each module's datasheet (in-package flash).
export const CHIPS: Record<string, ChipPins> = {
    esp32: {
        name: "ESP32",
        exists: [...range(0, 19), 21, 22, 23, 25, 26, 27, ...range(32, 39)],
        inputOnly: range(34, 39),
        strapping: [0, 2, 5, 12, 15],
        flash: range(6, 11),
        adc1: range(32, 39),
        adc2: [0, 2, 4, 12, 13, 14, 15, 25, 26, 27],
    },
    esp32s3: {
        name: "ESP32-S3",
        exists: [...range(0, 21), ...range(26, 48)],
        inputOnly: [],
        strapping: [0, 3, 45, 46],
        flash: range(26, 32),
        adc1: range(1, 10),
        adc2: range(11, 20),
    },
    esp32c3: {
        name: "ESP32-C3",
        exists: range(0, 21),
        inputOnly: [],
        strapping: [2, 8, 9],
        flash: range(12, 17),
        adc1: range(0, 4),
        adc2: [5],
    },
}

type Kind = "in" | "out" | "io" | "analog"
interface KeySpec {
    /** Pin keys and their direction. */
    pins?: Record<string, Kind>
    /** Other scalar keys: "string" | "number" | "integer" | "boolean". */
    values?: Record<string, string>
}

const COMMENT = { "#": "string" }
const BASE_SERVICE = { ...COMMENT, service: "string", name: "string", variant: "integer" }
const ANALOG: KeySpec = {
    pins: { pin: "analog", pinLow: "out", pinHigh: "out" },
    values: { ...BASE_SERVICE, offset: "integer", scale: "integer", samplingItv: "integer", samplingDelay: "integer", streamingItv: "integer" },
}

/** Allowed keys per DeviceScript service type (devicescript-servers.d.ts, 2.16.4). */
export const SERVICE_KEYS: Record<string, KeySpec> = {
    relay: {
        pins: { pin: "out", pinFeedback: "in", pinLed: "out" },
        values: { ...BASE_SERVICE, activeLow: "boolean", ledActiveLow: "boolean", initalActive: "boolean", maxCurrent: "integer" },
    },
    button: { pins: { pin: "in", pinBacklight: "out" }, values: { ...BASE_SERVICE, activeHigh: "boolean" } },
    switch: { pins: { pin: "in" }, values: { ...BASE_SERVICE } },
    buzzer: { pins: { pin: "out" }, values: { ...BASE_SERVICE, activeLow: "boolean" } },
    lightBulb: { pins: { pin: "out" }, values: { ...BASE_SERVICE, activeLow: "boolean", dimmable: "boolean" } },
    motor: { pins: { pin1: "out", pin2: "out", pinEnable: "out" }, values: { ...BASE_SERVICE } },
    servo: {
        pins: { pin: "out", powerPin: "out" },
        values: { ...BASE_SERVICE, fixed: "boolean", minAngle: "number", minPulse: "number", maxAngle: "number", maxPulse: "number" },
    },
    motion: { pins: { pin: "in" }, values: { ...BASE_SERVICE, activeLow: "boolean", angle: "number", minDistance: "number" } },
    rotaryEncoder: { pins: { pin0: "in", pin1: "in" }, values: { ...BASE_SERVICE, clicksPerTurn: "integer", dense: "boolean", inverted: "boolean" } },
    flex: { pins: { pinL: "out", pinM: "analog", pinH: "out" }, values: { ...BASE_SERVICE } },
    power: {
        pins: { pinFault: "in", pinEn: "out", pinPulse: "out", pinLedPulse: "out", pinUsbDetect: "in" },
        values: { ...BASE_SERVICE, mode: "integer", faultIgnoreMs: "integer" },
    },
    "analog:lightLevel": ANALOG,
    "analog:reflectedLight": ANALOG,
    "analog:waterLevel": ANALOG,
    "analog:soundLevel": ANALOG,
    "analog:soilMoisture": ANALOG,
    "analog:potentiometer": ANALOG,
}

/** Required keys per service type (default: `pin`). */
const SERVICE_REQUIRED: Record<string, string[]> = {
    motor: ["pin1"],
    rotaryEncoder: ["pin0", "pin1"],
    flex: ["pinL", "pinM", "pinH"],
    power: ["pinFault", "pinEn", "mode", "faultIgnoreMs"],
}

/** Top-level keys and their sub-objects. */
const TOP_VALUES: Record<string, string> = {
    ...COMMENT,
    $schema: "string",
    $description: "string",
    $fwUrl: "string",
    id: "string",
    devName: "string",
    productId: "string",
    archId: "string",
    url: "string",
    scanI2C: "boolean",
}
const TOP_OBJECTS = ["jacdac", "led", "log", "i2c", "pins", "sPin", "services", "$services", "$charger"]
const SECTIONS: Record<string, KeySpec> = {
    jacdac: { pins: { pin: "io" }, values: { ...COMMENT, $connector: "string" } },
    led: { pins: { pin: "out", pinCLK: "out" }, values: { ...COMMENT, activeHigh: "boolean", isMono: "boolean", type: "integer" } },
    log: { pins: { pinTX: "out" }, values: { ...COMMENT, baud: "integer" } },
    i2c: { pins: { pinSDA: "io", pinSCL: "out" }, values: { ...COMMENT, $connector: "string", inst: "integer", kHz: "integer" } },
}
const LED_CHANNEL: KeySpec = { pins: { pin: "out" }, values: { ...COMMENT, mult: "integer" } }

/** This project's `$charger` section: sub-object name -> keys. */
const CHARGER_SECTIONS: Record<string, KeySpec> = {
    dcContactor: { pins: { pin: "out", pinFeedback: "in" }, values: { ...COMMENT, activeLow: "boolean" } },
    gridRelay: { pins: { pin: "out", pinFeedback: "in" }, values: { ...COMMENT, activeLow: "boolean" } },
    inverterUart: { pins: { pinTX: "out", pinRX: "in" }, values: { ...COMMENT, baud: "integer" } },
    dcMonitor: {
        values: { ...COMMENT, chip: "string", address: "integer", shuntOhms: "number", maxCurrentA: "number", busDividerRatio: "number", pollMs: "integer" },
    },
    outletMeter: { values: { ...COMMENT, chip: "string", address: "integer", voltageDividerRatio: "number", pollMs: "integer" } },
    heatsinkTemp: { values: { ...COMMENT, chip: "string", address: "integer", pollMs: "integer" } },
}
const CT_CHANNEL: KeySpec = { values: { ...COMMENT, ctTurns: "number", burdenOhms: "number" } }
const OUTLET_CHANNELS = ["outlet1", "outlet2"]
/** Required `$charger` keys (calibration must never default silently). */
const CHARGER_REQUIRED: Record<string, string[]> = {
    dcContactor: ["pin", "pinFeedback"],
    gridRelay: ["pin", "pinFeedback"],
    // inverterUart: optional (older board files): the power stage is reached over the Jacdac bus (jacdac.pin).
    inverterUart: [],
    dcMonitor: ["chip", "address", "shuntOhms", "maxCurrentA", "busDividerRatio", "pollMs"],
    outletMeter: ["chip", "address", "voltageDividerRatio", "outlet1", "outlet2", "pollMs"],
    heatsinkTemp: ["chip", "address", "pollMs"],
}
/** Chip poll periods: from a 20 ms (one protection tick) to a 10 s sample. */
const POLL_MS_RANGE = [20, 10000]
const CHIP_NAMES: Record<string, string> = { dcMonitor: "ina228", outletMeter: "ade7953", heatsinkTemp: "tmp102" }

interface PinUse {
    pin: number
    kind: Kind
    path: string
    /** The /pins label it was referenced by, if any. */
    label?: string
}

function isObj(v: unknown): v is Record<string, any> {
    return v !== null && typeof v === "object" && !Array.isArray(v)
}

function typeOk(v: unknown, t: string): boolean {
    if (t === "integer") return typeof v === "number" && Math.floor(v) === v
    if (t === "number") return typeof v === "number" && isFinite(v)
    return typeof v === t
}

function esc(key: string) {
    return key.replace(/~/g, "~0").replace(/\//g, "~1")
}

/** Checks one parsed board file; string pin references ("P13") resolve through its /pins labels. */
export function checkBoard(board: unknown): BoardProblem[] {
    const problems: BoardProblem[] = []
    const add = (path: string, rule: string, message: string) => problems.push({ path: path || "/", rule, message })
    if (!isObj(board)) {
        add("/", "not-an-object", "a board file must hold one JSON object")
        return problems
    }
    const uses: PinUse[] = []

    const archId = board.archId
    const chip = typeof archId === "string" ? CHIPS[archId] : undefined
    if (archId === undefined) add("/archId", "required-key", "required key is missing (one of: " + Object.keys(CHIPS).join(", ") + ")")
    else if (!chip) add("/archId", "unknown-chip", `archId ${JSON.stringify(archId)} is not a chip these rules know (${Object.keys(CHIPS).join(", ")})`)
    for (const k of ["id", "devName", "productId"])
        if (board[k] === undefined) add("/" + k, "required-key", "required key is missing")
    // The board reaches its power stage (vehicle link, inverter) as a Jacdac device on its own
    // Jacdac bus (docs/power-stage.md): every board names that bus's pin.
    if (board.jacdac === undefined) add("/jacdac", "required-key", "required section is missing (the Jacdac bus to the power stage: { \"pin\": <GPIO> })")
    else if (isObj(board.jacdac) && board.jacdac.pin === undefined) add("/jacdac/pin", "required-key", "required key is missing (the Jacdac bus GPIO)")
    if (typeof board.productId === "string" && !/^0x3[0-9a-f]{7}$/i.test(board.productId))
        add("/productId", "bad-value", `productId ${JSON.stringify(board.productId)} must be a hex number 0x3xxxxxxx`)

    const labels: Record<string, number> = {}
    if (isObj(board.pins))
        for (const [k, v] of Object.entries(board.pins)) if (typeof v === "number") labels[k] = v

    // Checks keys of one object against a spec; collects pin uses.
    const checkKeys = (obj: unknown, path: string, spec: KeySpec, what: string, skip: string[] = []) => {
        if (!isObj(obj)) {
            add(path, "bad-type", `${what} must be an object`)
            return
        }
        const pins = spec.pins ?? {}
        const values = spec.values ?? {}
        const allowed = [...Object.keys(pins), ...Object.keys(values), ...skip]
        for (const [k, v] of Object.entries(obj)) {
            const p = `${path}/${esc(k)}`
            if (skip.includes(k)) continue
            if (pins[k]) {
                const n = typeof v === "string" ? labels[v] : v
                if (typeof n !== "number" || Math.floor(n) !== n) add(p, "bad-pin", `${JSON.stringify(v)} is not a GPIO number or a label from /pins`)
                else uses.push({ pin: n, kind: pins[k], path: p, label: typeof v === "string" ? v : undefined })
            } else if (values[k]) {
                if (!typeOk(v, values[k])) add(p, "bad-type", `${JSON.stringify(v)} must be ${values[k] === "integer" ? "an integer" : "a " + values[k]}`)
            } else add(p, "unknown-key", `unknown key in ${what} (allowed: ${allowed.join(", ")})`)
        }
    }

    for (const [k, v] of Object.entries(board)) {
        const p = "/" + esc(k)
        if (TOP_VALUES[k]) {
            if (!typeOk(v, TOP_VALUES[k])) add(p, "bad-type", `${JSON.stringify(v)} must be a ${TOP_VALUES[k]}`)
        } else if (SECTIONS[k]) {
            checkKeys(v, p, SECTIONS[k], k, k === "led" ? ["rgb"] : [])
            if (k === "led" && isObj(v) && v.rgb !== undefined) {
                if (!Array.isArray(v.rgb) || v.rgb.length !== 3) add(p + "/rgb", "bad-type", "rgb must list exactly 3 channels")
                else v.rgb.forEach((c: unknown, i: number) => checkKeys(c, `${p}/rgb/${i}`, LED_CHANNEL, "an LED channel"))
            }
        } else if (k === "pins") {
            if (!isObj(v)) add(p, "bad-type", "pins must be an object of label -> GPIO")
            else
                for (const [lbl, n] of Object.entries(v)) {
                    if (lbl === "#") continue
                    if (typeof n !== "number" || Math.floor(n) !== n) add(`${p}/${esc(lbl)}`, "bad-pin", `${JSON.stringify(n)} is not a GPIO number`)
                    else uses.push({ pin: n, kind: "io", path: `${p}/${esc(lbl)}` })
                }
        } else if (k === "sPin") {
            if (!isObj(v)) add(p, "bad-type", "sPin must be an object of label -> 0|1")
            else
                for (const [lbl, n] of Object.entries(v))
                    if (n !== 0 && n !== 1) add(`${p}/${esc(lbl)}`, "bad-value", `${JSON.stringify(n)} must be 0 or 1`)
        } else if (k === "services" || k === "$services") {
            if (!Array.isArray(v)) add(p, "bad-type", `${k} must be an array`)
            else
                v.forEach((s: unknown, i: number) => {
                    const sp = `${p}/${i}`
                    if (!isObj(s)) return add(sp, "bad-type", "a service entry must be an object")
                    const spec = typeof s.service === "string" ? SERVICE_KEYS[s.service] : undefined
                    if (!spec)
                        return add(
                            sp + "/service",
                            "unknown-service",
                            `service ${JSON.stringify(s.service)} is not a DeviceScript board service (known: ${Object.keys(SERVICE_KEYS).join(", ")})`,
                        )
                    checkKeys(s, sp, spec, `a ${s.service} service`)
                    // This project's rule: every relay starts open; the firmware decides when to close it.
                    if (s.service === "relay" && s.initalActive === true)
                        add(`${sp}/initalActive`, "relay-on-at-boot", "a relay must not close at boot, before the firmware has checked anything")
                    for (const req of SERVICE_REQUIRED[s.service] ?? ["pin"])
                        if (s[req] === undefined) add(`${sp}/${req}`, "required-key", `required key of a ${s.service} service is missing`)
                })
        } else if (k === "$charger") {
            if (!isObj(v)) add(p, "bad-type", "$charger must be an object")
            else {
                for (const [sk, sv] of Object.entries(v)) {
                    const sp = `${p}/${esc(sk)}`
                    if (sk === "#") continue
                    const spec = CHARGER_SECTIONS[sk]
                    if (!spec) {
                        add(sp, "unknown-key", `unknown key in $charger (allowed: ${Object.keys(CHARGER_SECTIONS).join(", ")})`)
                        continue
                    }
                    checkKeys(sv, sp, spec, `$charger.${sk}`, sk === "outletMeter" ? OUTLET_CHANNELS : [])
                    if (!isObj(sv)) continue
                    for (const req of CHARGER_REQUIRED[sk]) if (sv[req] === undefined) add(`${sp}/${req}`, "required-key", "required key is missing")
                    if (CHIP_NAMES[sk] && sv.chip !== undefined && sv.chip !== CHIP_NAMES[sk])
                        add(`${sp}/chip`, "unknown-chip", `${JSON.stringify(sv.chip)}: this firmware has a driver for ${CHIP_NAMES[sk]} only`)
                    if (sv.address !== undefined && (typeof sv.address !== "number" || sv.address < 0x08 || sv.address > 0x77))
                        add(`${sp}/address`, "bad-value", `${JSON.stringify(sv.address)} is not a 7-bit I2C address (8..119)`)
                    if (typeof sv.pollMs === "number" && (sv.pollMs < POLL_MS_RANGE[0] || sv.pollMs > POLL_MS_RANGE[1]))
                        add(`${sp}/pollMs`, "bad-value", `${sv.pollMs} must lie within ${POLL_MS_RANGE[0]}..${POLL_MS_RANGE[1]} ms`)
                    if (sk === "dcMonitor" && typeof sv.busDividerRatio === "number" && sv.busDividerRatio < 1)
                        add(`${sp}/busDividerRatio`, "bad-value", `${sv.busDividerRatio} must be at least 1 (a divider)`)
                    for (const pos of ["shuntOhms", "maxCurrentA", "busDividerRatio", "voltageDividerRatio"])
                        if (typeof sv[pos] === "number" && !(sv[pos] > 0)) add(`${sp}/${pos}`, "bad-value", `${sv[pos]} must be greater than 0`)
                    if (sk === "outletMeter")
                        for (const ch of OUTLET_CHANNELS)
                            if (sv[ch] !== undefined) {
                                checkKeys(sv[ch], `${sp}/${ch}`, CT_CHANNEL, `$charger.outletMeter.${ch}`)
                                if (isObj(sv[ch]))
                                    for (const req of ["ctTurns", "burdenOhms"]) {
                                        if (sv[ch][req] === undefined) add(`${sp}/${ch}/${req}`, "required-key", "required key is missing")
                                        else if (typeof sv[ch][req] === "number" && !(sv[ch][req] > 0))
                                            add(`${sp}/${ch}/${req}`, "bad-value", `${sv[ch][req]} must be greater than 0`)
                                    }
                            }
                }
                for (const sk of Object.keys(CHARGER_SECTIONS))
                    if (v[sk] === undefined && CHARGER_REQUIRED[sk].length) add(`${p}/${sk}`, "required-key", "required key is missing")
            }
        } else if (k.startsWith("#")) {
            // comment
        } else {
            add(p, "unknown-key", `unknown top-level key (allowed: ${[...Object.keys(TOP_VALUES), ...TOP_OBJECTS].join(", ")})`)
        }
    }

    // Pin rules (need the chip).
    if (chip) {
        const byPin = new Map<number, PinUse[]>()
        for (const u of uses) {
            if (!byPin.has(u.pin)) byPin.set(u.pin, [])
            byPin.get(u.pin).push(u)
        }
        for (const u of uses) {
            if (!chip.exists.includes(u.pin)) {
                add(u.path, "no-such-pin", `GPIO${u.pin} does not exist on the ${chip.name}`)
                continue
            }
            if (chip.flash.includes(u.pin)) add(u.path, "flash-pin", `GPIO${u.pin} is wired to the module's SPI flash on the ${chip.name}`)
            if ((u.kind === "out" || u.kind === "io") && chip.inputOnly.includes(u.pin) && !u.path.startsWith("/pins/"))
                add(u.path, "input-only-pin", `GPIO${u.pin} is input-only on the ${chip.name} (no output driver); it cannot drive this output`)
            // The Jacdac bus idles high through its pull-up, and any device on it may hold it low:
            // on a strapping pin either can select the wrong boot mode (or, on the ESP32's GPIO12,
            // a 1.8 V flash supply).
            if (u.path === "/jacdac/pin" && chip.strapping.includes(u.pin))
                add(
                    u.path,
                    "strapping-pin-bus",
                    `GPIO${u.pin} is a strapping pin on the ${chip.name} (${chip.strapping.join(", ")}): the Jacdac bus's pull-up and the devices on it would set its level at reset`,
                )
            if (u.kind === "out" && chip.strapping.includes(u.pin))
                add(
                    u.path,
                    "strapping-pin-output",
                    `GPIO${u.pin} is a strapping pin on the ${chip.name} (${chip.strapping.join(", ")}): it is pulled/sampled at reset, so a load on it may switch during boot, and the load can change the boot mode`,
                )
            if (u.kind === "analog") {
                if (chip.adc2.includes(u.pin))
                    add(u.path, "adc2-with-wifi", `GPIO${u.pin} is an ADC2 channel on the ${chip.name}: ADC2 cannot be read while Wi-Fi runs (use ADC1: GPIO${chip.adc1.join(", ")})`)
                else if (!chip.adc1.includes(u.pin)) add(u.path, "not-analog", `GPIO${u.pin} has no ADC channel on the ${chip.name}`)
            }
        }
        // Duplicates: a pin may appear once as a function; /pins labels of the same pin are the
        // DeviceScript build's own error ("marked as both"), reported here too.
        // A function may name a pin through its /pins label; naming the same GPIO by number
        // while a label exists is DeviceScript's "marked as both" error.
        for (const [pin, list] of byPin) {
            const labelOf = (u: PinUse) => (u.path.startsWith("/pins/") ? u.path.slice(6) : undefined)
            const functions = list.filter(u => !labelOf(u))
            for (let i = 1; i < functions.length; i++)
                add(functions[i].path, "duplicate-pin", `GPIO${pin} is already used by ${functions[0].path}`)
            for (const l of list.filter(u => labelOf(u)))
                for (const u of functions)
                    if (u.label !== labelOf(l)) add(u.path, "duplicate-pin", `GPIO${pin} is also the spare label ${l.path}; use the label or drop it`)
        }
    }
    return problems
}

/** "file: /path: message [rule]" lines. */
export function formatProblems(file: string, problems: BoardProblem[]): string[] {
    return problems.map(p => `${file}: ${p.path}: ${p.message} [${p.rule}]`)
}
