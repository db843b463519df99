// HEMS commands: the ONE parser and validator for every command path — the firmware's Jacdac
// control surface, the simulator's scenario `hems` events and (issue 6) MQTT. A command is a JSON
// object with snake_case keys:
//   {"mode": "setpoint", "setpoint_w": 3000}      positive = discharge to the home, negative = charge
//   {"mode": "self_consumption"} | "pv_surplus" | "schedule" | "idle"
//   {"soc_floor_pct": 25, "reserve_pct": 40, "charge_limit_pct": 80, "outlet_priority": 2}
// Keys may be combined; at least one is required. An optional "id" (a short text chosen by the
// sender, e.g. a gateway) is echoed in the command_accepted / command_rejected event, so that
// the sender can tell which command a result belongs to; it changes nothing else. Rules between a command and the current
// settings (reserve below charge limit) are the supervisor's (V2hSupervisor.checkCommand). Anything else — malformed JSON, a non-object,
// unknown keys, wrong types, NaN/Infinity, out-of-range values, an oversize payload — is rejected
// with a message naming the key, the value and the rule, and the caller changes nothing.
//
// Pure; DeviceScript subset (no regex, no Number.*).
import type { DevsConfig } from "../../config/devs.gen"
import { isFiniteNumber } from "../common/num"

export type V2hMode = "idle" | "setpoint" | "self_consumption" | "pv_surplus" | "schedule"
/** Wire order (services/charger-control.md enum V2hMode). */
export const V2H_MODES: V2hMode[] = ["idle", "setpoint", "self_consumption", "pv_surplus", "schedule"]

export const COMMAND_KEYS = ["mode", "setpoint_w", "soc_floor_pct", "reserve_pct", "charge_limit_pct", "outlet_priority"]
/** The optional correlation key, and the longest id it may carry (characters). */
export const COMMAND_ID_KEY = "id"
export const COMMAND_ID_MAX_CHARS = 40

/** A validated command. Absent numbers are NaN, an absent mode is "". */
export interface HemsCommand {
    mode: string
    setpointW: number
    socFloorPct: number
    reservePct: number
    chargeLimitPct: number
    outletPriority: number
}

export interface CommandResult {
    /** "" when the command is valid; otherwise why it was rejected. */
    error: string
    command: HemsCommand
    /** The command's "id" when it carried a valid one (also when the rest was rejected), else "". */
    id: string
}

export type CommandConfig = Pick<DevsConfig, "v2h" | "socFloor" | "outlets" | "hems">

function emptyCommand(): HemsCommand {
    return { mode: "", setpointW: NaN, socFloorPct: NaN, reservePct: NaN, chargeLimitPct: NaN, outletPriority: NaN }
}

/** A value as it appears in an error message (numbers keep NaN/Infinity visible). */
export function showValue(v: any): string {
    if (v === undefined) return "undefined"
    if (typeof v === "number") return "" + v
    if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "..." : v)
    const s = JSON.stringify(v)
    return s.length > 40 ? s.slice(0, 40) + "..." : s
}

/** Why an "id" value is not usable, or "". Printable ASCII only: it is echoed into JSON and logs. */
function idProblem(v: any): string {
    if (typeof v !== "string" || v.length < 1 || v.length > COMMAND_ID_MAX_CHARS)
        return `id = ${showValue(v)}: must be a text of 1..${COMMAND_ID_MAX_CHARS} characters`
    for (let i = 0; i < v.length; i++) {
        const c = v.charCodeAt(i)
        if (c < 0x20 || c > 0x7e) return `id = ${showValue(v)}: only printable ASCII characters`
    }
    return ""
}

function checkNumber(obj: any, key: string, lo: number, hi: number, unit: string, integer: boolean): string {
    const v = obj[key]
    if (!isFiniteNumber(v)) return `${key} = ${showValue(v)}: must be a finite number`
    if (v < lo || v > hi) return `${key} = ${v}: out of range ${lo}..${hi}${unit}`
    if (integer && Math.round(v) !== v) return `${key} = ${v}: must be a whole number`
    return ""
}

/** Validates an already parsed command object. */
export function validateCommand(obj: any, cfg: CommandConfig): CommandResult {
    const command = emptyCommand()
    let id = ""
    const reject = (error: string): CommandResult => ({ error, command: emptyCommand(), id })
    if (obj === null || typeof obj !== "object" || Array.isArray(obj))
        return reject(`command must be a JSON object, got ${showValue(obj)}`)
    const keys = Object.keys(obj)
    let actions = 0
    if (obj[COMMAND_ID_KEY] !== undefined) {
        const why = idProblem(obj[COMMAND_ID_KEY])
        if (why) return reject(why)
        id = obj[COMMAND_ID_KEY]
    }
    for (const k of keys) {
        if (k === COMMAND_ID_KEY) continue
        if (COMMAND_KEYS.indexOf(k) < 0) return reject(`unknown key ${showValue(k)} (allowed: ${COMMAND_KEYS.join(", ")}, ${COMMAND_ID_KEY})`)
        actions++
    }
    if (actions === 0) return reject(`empty command: give at least one of ${COMMAND_KEYS.join(", ")}`)
    if (obj.mode !== undefined) {
        if (typeof obj.mode !== "string" || V2H_MODES.indexOf(obj.mode) < 0)
            return reject(`mode = ${showValue(obj.mode)}: must be one of ${V2H_MODES.join(", ")}`)
        command.mode = obj.mode
    }
    const v = cfg.v2h
    let e = ""
    if (obj.setpoint_w !== undefined) {
        e = checkNumber(obj, "setpoint_w", -v.ratedPowerW, v.ratedPowerW, " W", false)
        if (e) return reject(e)
        if (command.mode !== "setpoint") return reject(`setpoint_w = ${obj.setpoint_w}: needs "mode": "setpoint" in the same command`)
        command.setpointW = obj.setpoint_w
    } else if (command.mode === "setpoint") return reject(`mode "setpoint" needs setpoint_w (W, + discharge, - charge)`)
    if (obj.soc_floor_pct !== undefined) {
        e = checkNumber(obj, "soc_floor_pct", cfg.socFloor.minPct, cfg.socFloor.maxPct, " %", false)
        if (e) return reject(e)
        command.socFloorPct = obj.soc_floor_pct
    }
    if (obj.reserve_pct !== undefined) {
        e = checkNumber(obj, "reserve_pct", v.reserve.minPct, v.reserve.maxPct, " %", false)
        if (e) return reject(e)
        command.reservePct = obj.reserve_pct
    }
    if (obj.charge_limit_pct !== undefined) {
        e = checkNumber(obj, "charge_limit_pct", v.chargeLimit.minPct, v.chargeLimit.maxPct, " %", false)
        if (e) return reject(e)
        command.chargeLimitPct = obj.charge_limit_pct
    }
    if (obj.outlet_priority !== undefined) {
        e = checkNumber(obj, "outlet_priority", 1, cfg.outlets.count, "", true)
        if (e) return reject(e)
        command.outletPriority = obj.outlet_priority
    }
    return { error: "", command, id }
}

/** Parses and validates a command payload (JSON text). */
export function parseCommand(text: string, cfg: CommandConfig): CommandResult {
    if (typeof text !== "string") return { error: `payload must be text, got ${showValue(text)}`, command: emptyCommand(), id: "" }
    if (text.length > cfg.hems.maxPayloadBytes)
        return { error: `payload too long: ${text.length} characters (limit ${cfg.hems.maxPayloadBytes})`, command: emptyCommand(), id: "" }
    let obj: any = undefined
    try {
        obj = JSON.parse(text)
    } catch (err) {
        return { error: `not valid JSON: ${showValue(text)}`, command: emptyCommand(), id: "" }
    }
    return validateCommand(obj, cfg)
}
