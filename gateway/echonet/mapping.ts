// The mapping between the charger's MQTT interface and the 0x027E object: property values from
// the retained status document (src/core/controller.ts statusJson), and Set requests turned into
// ONE firmware command (src/core/hems/command.ts) or refused. Pure: no sockets, no clock.
//
// Sign conventions: the firmware's setpoint_w and inverter_w are + discharge (to the home), -
// charge; ECHONET Lite 0xD3 and 0xE0 are + charge, - discharge.
import { APPENDIX_RELEASE, CHARGER_PROPERTIES, concat, eoj3, mapsOf, readS32, readU32, s32, specOf, u16, u32, u8, U32_MAX_VALUE, type PropertySpec } from "./properties"
import type { Property } from "./frame"

/** 0xDA operation mode setting / 0xE1 actual operation mode codes (Appendix Release R). */
export const MODE = {
    other: 0x40,
    charge: 0x42,
    discharge: 0x43,
    standby: 0x44,
    idle: 0x47,
    preparation: 0x48,
    automatic: 0x49,
} as const
/** The 0xDA codes a Set may carry. */
export const SETTABLE_MODES: number[] = [MODE.charge, MODE.discharge, MODE.standby, MODE.idle, MODE.automatic]
/** The firmware mode that "automatic" selects: the charger follows the house on its own. */
export const AUTOMATIC_FIRMWARE_MODE = "self_consumption"
const AUTOMATIC_MODES = ["self_consumption", "pv_surplus", "schedule"]

/** 0xC7 codes. */
export const VEHICLE = { none: 0x30, connected: 0x40, chargeable: 0x41, dischargeable: 0x42, both: 0x43, unknown: 0x44 } as const
/** 0xCC: DC type AA (CHAdeMO), charge and discharge. */
export const CHARGER_TYPE_DC_AA_BIDIRECTIONAL = 0x22
/** 0xCD: the one code a vehicle connection confirmation carries. */
export const CONNECTION_CONFIRMATION = 0x10
const ON = 0x30
const OFF = 0x31

/** What the gateway knows about the charger. */
export interface ChargerView {
    /** The charger's last will / online flag is "true" and the gateway is on the broker. */
    online: boolean
    /** The last retained status document, or null. */
    status: any
}

/** Settings the gateway holds itself (they are not charger state; see docs/echonet-gateway.md). */
export interface HeldSettings {
    installationLocation: number
    /** 0xEB / 0xEC: used when a charge / discharge mode is set; NaN = the rated power. */
    chargePowerW: number
    dischargePowerW: number
}

export interface GatewayIdentity {
    /** 3-byte manufacturer code (0x8A). */
    manufacturerCode: number
    /** 13 bytes that make the identification number (0x83) unique. */
    uniqueId: Uint8Array
    /** Usable capacity of the vehicle battery, Wh (for the Wh properties; the status has only SoC). */
    batteryWh: number
}

export function initialHeld(): HeldSettings {
    return { installationLocation: 0x00, chargePowerW: NaN, dischargePowerW: NaN }
}

const num = (x: any): number | null => (typeof x === "number" && Number.isFinite(x) ? x : null)
const clampU32 = (x: number) => u32(Math.max(0, Math.min(U32_MAX_VALUE, Math.round(x))))

/** The identification number 0x83: 0xFE, the manufacturer code, 13 unique bytes. */
export function identificationNumber(id: GatewayIdentity): Uint8Array {
    return concat(u8(0xfe), eoj3(id.manufacturerCode), id.uniqueId.slice(0, 13))
}

/** 0xDA from the status: the firmware mode (and the setpoint's sign) in the class's terms. */
export function operationModeOf(status: any): number | null {
    if (!status || typeof status.mode !== "string") return null
    if (status.mode === "idle") return MODE.idle
    if (AUTOMATIC_MODES.includes(status.mode)) return MODE.automatic
    if (status.mode === "setpoint") {
        const w = num(status.setpoint_w)
        if (w === null) return null
        return w > 0 ? MODE.discharge : w < 0 ? MODE.charge : MODE.standby
    }
    return MODE.other
}

/** 0xE1 from the status: what the power stage is doing now. */
export function actualModeOf(status: any): number | null {
    if (!status || typeof status.state !== "string") return null
    switch (status.state) {
        case "charging":
            return MODE.charge
        case "discharging":
        case "backup": // supplying the islanded house
            return MODE.discharge
        case "starting":
            return MODE.preparation
        case "stopping":
            return MODE.standby
        case "idle":
            return status.mode === "idle" ? MODE.idle : MODE.standby
        default: // grid_lost, fault
            return MODE.other
    }
}

function vehicleOf(view: ChargerView): number {
    if (!view.online || !view.status) return VEHICLE.unknown
    const v = (VEHICLE as any)[view.status.vehicle]
    return typeof v === "number" && view.status.vehicle !== "unknown" ? v : VEHICLE.unknown
}

/** The held power settings as the class shows them (the rated power until one was set). */
function heldPowerW(held: number, status: any): number | null {
    if (Number.isFinite(held)) return held
    return num(status?.rated_power_w)
}

/**
 * The value of every Get-able property now, null where the gateway cannot know it (the charger
 * is offline, or the status lacks the field): those are answered with SNA, never a stale value.
 */
export function readValue(epc: number, view: ChargerView, held: HeldSettings, id: GatewayIdentity): Uint8Array | null {
    const st = view.online ? view.status : null
    const soc = num(st?.soc_pct)
    const wh = id.batteryWh
    const reserve = num(st?.reserve_pct)
    const limit = num(st?.charge_limit_pct)
    const rated = num(st?.rated_power_w)
    const maps = mapsOf(CHARGER_PROPERTIES)
    const amps = (a: number | null) => (a === null ? null : concat(u16(0), u16(Math.max(0, Math.min(0xfffd, Math.round(a * 10))))))
    switch (epc) {
        case 0x80:
            return u8(view.online && st ? ON : OFF)
        case 0x81:
            return u8(held.installationLocation)
        case 0x82:
            return Uint8Array.of(0x00, 0x00, APPENDIX_RELEASE.charCodeAt(0), 0x00)
        case 0x83:
            return identificationNumber(id)
        case 0x88:
            return st && typeof st.fault === "string" ? u8(st.fault === "none" ? 0x42 : 0x41) : null
        case 0x8a:
            return eoj3(id.manufacturerCode)
        case 0x9d:
        case 0x9e:
        case 0x9f:
            return maps[epc]
        case 0xc0: // what can be discharged from full down to the reserve
            return reserve === null ? null : clampU32((wh * (100 - reserve)) / 100)
        case 0xc2:
            return soc === null || reserve === null ? null : clampU32((wh * Math.max(0, soc - reserve)) / 100)
        case 0xc4:
            return soc === null || reserve === null || reserve >= 100 ? null : u8(Math.round((100 * Math.max(0, soc - reserve)) / (100 - reserve)))
        case 0xc5:
        case 0xc6:
            return rated === null ? null : clampU32(rated)
        case 0xc7:
            return u8(vehicleOf(view))
        case 0xc8:
        case 0xc9:
            return rated === null ? null : concat(u32(0), clampU32(rated))
        case 0xca:
            return amps(num(st?.max_charge_a))
        case 0xcb:
            return amps(num(st?.max_discharge_a))
        case 0xcc:
            return u8(CHARGER_TYPE_DC_AA_BIDIRECTIONAL)
        case 0xce: // what can be charged from empty up to the charge limit
            return limit === null ? null : clampU32((wh * limit) / 100)
        case 0xcf:
            return soc === null || limit === null ? null : clampU32((wh * Math.max(0, limit - soc)) / 100)
        case 0xd0:
            return clampU32(wh)
        case 0xd3: {
            const w = num(st?.inverter_w)
            return w === null ? null : s32(-Math.round(w))
        }
        case 0xd6:
            return num(st?.energy_discharged_wh) === null ? null : clampU32(st.energy_discharged_wh)
        case 0xd8:
            return num(st?.energy_charged_wh) === null ? null : clampU32(st.energy_charged_wh)
        case 0xda: {
            const m = operationModeOf(st)
            return m === null ? null : u8(m)
        }
        case 0xdb:
            return st && typeof st.reverse_flow_allowed === "boolean" ? u8(st.reverse_flow_allowed ? 0x00 : 0x02) : null
        case 0xdc: // 0x03 designated power, 0x02 surplus power, 0x00 other
            return st ? u8(st.mode === "setpoint" ? 0x03 : st.mode === "pv_surplus" ? 0x02 : 0x00) : null
        case 0xdd: // 0x03 designated power, 0x02 load following, 0x00 other
            return st ? u8(st.mode === "setpoint" ? 0x03 : st.mode === "self_consumption" ? 0x02 : 0x00) : null
        case 0xe0: {
            const w = num(st?.setpoint_w)
            return st?.mode === "setpoint" && w !== null ? s32(-Math.round(w)) : null
        }
        case 0xe1: {
            const m = actualModeOf(st)
            return m === null ? null : u8(m)
        }
        case 0xe2:
            return soc === null ? null : clampU32((wh * soc) / 100)
        case 0xe4:
            return soc === null ? null : u8(Math.max(0, Math.min(100, Math.round(soc))))
        case 0xeb: {
            const sp = num(st?.setpoint_w)
            if (st?.mode === "setpoint" && sp !== null && sp < 0) return clampU32(-sp)
            const w = st ? heldPowerW(held.chargePowerW, st) : null
            return w === null ? null : clampU32(w)
        }
        case 0xec: {
            const sp = num(st?.setpoint_w)
            if (st?.mode === "setpoint" && sp !== null && sp > 0) return clampU32(sp)
            const w = st ? heldPowerW(held.dischargePowerW, st) : null
            return w === null ? null : clampU32(w)
        }
        default:
            return null
    }
}

/** A Set turned into what to do: one firmware command (or none) and the held settings after it. */
export type SetPlan =
    | { ok: true; command: any | null; held: HeldSettings }
    | { ok: false; why: string }

const hex = (n: number) => "0x" + n.toString(16).padStart(2, "0")

/**
 * Plans a Set of several properties as ONE firmware command: all of it or nothing. The firmware
 * validates the command again (its ranges are the authority); what the gateway refuses here is
 * what cannot be translated (wrong length, a code the class does not define, a property that is
 * not settable, a charger that is not there).
 */
export function planSet(props: Property[], view: ChargerView, held: HeldSettings): SetPlan {
    const refuse = (why: string): SetPlan => ({ ok: false, why })
    const next: HeldSettings = { ...held }
    const seen = new Set<number>()
    let mode: number | null = null
    let signedW: number | null = null
    let chargeW: number | null = null
    let dischargeW: number | null = null
    let confirm = false
    for (const pr of props) {
        const spec: PropertySpec | undefined = specOf(CHARGER_PROPERTIES, pr.epc)
        if (!spec || !spec.set) return refuse(`EPC ${hex(pr.epc)} is not settable`)
        if (seen.has(pr.epc)) return refuse(`EPC ${hex(pr.epc)} given twice`)
        seen.add(pr.epc)
        if (pr.edt.length !== spec.setBytes) return refuse(`EPC ${hex(pr.epc)}: ${pr.edt.length} data bytes, needs ${spec.setBytes}`)
        switch (pr.epc) {
            case 0x81:
                if (pr.edt[0] >= 0x01 && pr.edt[0] <= 0x07) return refuse(`installation location ${hex(pr.edt[0])}: position information (0x01) is not supported`)
                next.installationLocation = pr.edt[0]
                break
            case 0xcd:
                if (pr.edt[0] !== CONNECTION_CONFIRMATION) return refuse(`vehicle connection confirmation ${hex(pr.edt[0])}: only 0x10`)
                confirm = true
                break
            case 0xda:
                if (!SETTABLE_MODES.includes(pr.edt[0])) return refuse(`operation mode ${hex(pr.edt[0])}: settable are ${SETTABLE_MODES.map(hex).join(", ")}`)
                mode = pr.edt[0]
                break
            case 0xe0:
                signedW = readS32(pr.edt)
                break
            case 0xeb:
                chargeW = readU32(pr.edt)
                break
            case 0xec:
                dischargeW = readU32(pr.edt)
                break
        }
    }
    const st = view.status
    const charger = mode !== null || signedW !== null || chargeW !== null || dischargeW !== null || confirm
    if (charger && !(view.online && st)) return refuse("the charger is offline")
    if (mode !== null && signedW !== null) return refuse("0xDA and 0xE0 together: give one of them")
    if (chargeW !== null && chargeW > U32_MAX_VALUE) return refuse(`charging power ${chargeW}: not a power`)
    if (dischargeW !== null && dischargeW > U32_MAX_VALUE) return refuse(`discharging power ${dischargeW}: not a power`)
    if (chargeW !== null) next.chargePowerW = chargeW
    if (dischargeW !== null) next.dischargePowerW = dischargeW
    const rated = num(st?.rated_power_w)
    const powerOf = (w: number) => (Number.isFinite(w) ? w : rated)
    let command: any = null
    if (signedW !== null) command = { mode: "setpoint", setpoint_w: -signedW }
    else if (mode === MODE.charge) command = { mode: "setpoint", setpoint_w: -powerOf(next.chargePowerW) }
    else if (mode === MODE.discharge) command = { mode: "setpoint", setpoint_w: powerOf(next.dischargePowerW) }
    else if (mode === MODE.standby) command = { mode: "setpoint", setpoint_w: 0 }
    else if (mode === MODE.idle) command = { mode: "idle" }
    else if (mode === MODE.automatic) command = { mode: AUTOMATIC_FIRMWARE_MODE }
    else if (chargeW !== null || dischargeW !== null) {
        // A power setting alone: sent at once when the charger is in that direction now.
        const cur = operationModeOf(st)
        if (cur === MODE.charge && chargeW !== null) command = { mode: "setpoint", setpoint_w: -chargeW }
        else if (cur === MODE.discharge && dischargeW !== null) command = { mode: "setpoint", setpoint_w: dischargeW }
    }
    if (command && command.setpoint_w !== undefined && command.setpoint_w === null) return refuse("the charger's rated power is unknown")
    if (!command) {
        // Only held settings change: checked against the rated power the charger reports (the same
        // bound the firmware's validator puts on setpoint_w).
        for (const [w, what] of [[chargeW, "charging"], [dischargeW, "discharging"]] as const)
            if (w !== null && (rated === null || w > rated)) return refuse(`${what} power ${w} W: out of range 0..${rated ?? "?"} W`)
    }
    return { ok: true, command, held: next }
}
