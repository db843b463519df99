// Home Assistant MQTT discovery: the retained configs that make the charger appear in Home
// Assistant by itself (docs/home-assistant.md). One device; sensors read the retained status
// document (<prefix>/status, Controller.statusJson) with a value template each; selects and
// numbers command through <prefix>/cmd, i.e. through the one command validator
// (hems-command.ts): Home Assistant gets no path the HEMS does not have. Nothing here resets a
// trip or a fault (those stay local: outlet switch, clear-faults action).
//
// THE definition of the configs, but not run on the device: scripts/lib/ha-templates.ts renders
// them at build time into src/config/ha.gen.ts with the run-time values (prefixes, device id,
// software version) left open, and the firmware fills those in (ha-template.ts), one config per
// loop turn. A test holds the filled templates equal to haConfig for many contexts.
//
// Each config stays within mqtt.homeAssistant.maxConfigBytes (topic + payload; the discovery
// test checks every one): abbreviated keys, and "~" for the charger's topic prefix (Home
// Assistant expands a leading or trailing "~" in topic values).
//
// Topic: <discovery prefix>/<component>/<device id>/<object id>/config.
// Pure; DeviceScript subset.
import type { DevsConfig } from "../../config/devs.gen"
import { V2H_MODES } from "./command"
import { haDeviceTag } from "./ha-template"

export type HaConfigInput = Pick<DevsConfig, "v2h" | "socFloor" | "outlets" | "mqtt">

export interface HaContext {
    cfg: HaConfigInput
    /** Home Assistant's discovery prefix (setting mqttHaPrefix). */
    discoveryPrefix: string
    /** The charger's own topic prefix (setting mqttPrefix): status, cmd, status/online live under it. */
    topicPrefix: string
    deviceId: string
    /** The build's commit (src/config/build.gen.ts). */
    swVersion: string
}

export interface HaConfig {
    topic: string
    payload: string
}

/** Entities not per outlet: 11 sensors, 2 selects, 4 numbers. */
const FIXED_COUNT = 17
/** Per outlet: a binary_sensor (on/off) and a sensor (its reason). */
const PER_OUTLET = 2

export function haConfigCount(cfg: HaConfigInput): number {
    return FIXED_COUNT + PER_OUTLET * cfg.outlets.count
}

function sensor(id: string, name: string, key: string, devClass: string, unit: string, stateClass: string): any {
    const e: any = { component: "sensor", id: id, name: name, val_tpl: "{{ value_json." + key + " }}" }
    if (devClass) e.dev_cla = devClass
    if (unit) e.unit_of_meas = unit
    if (stateClass) e.stat_cla = stateClass
    return e
}

/** A number commanding {"<key>": value} (config: true puts it under the device's settings). */
function number(id: string, name: string, key: string, min: number, max: number, unit: string, config: boolean): any {
    const e: any = { component: "number", id: id, name: name, val_tpl: "{{ value_json." + key + " }}" }
    e.cmd_tpl = '{"' + key + '":{{ value }}}'
    e.min = min
    e.max = max
    e.step = 1
    e.unit_of_meas = unit
    e.mode = "box"
    if (config) e.ent_cat = "config"
    return e
}

/** The entity (without the common keys) at index i. */
function entity(i: number, cfg: HaConfigInput): any {
    const v = cfg.v2h
    switch (i) {
        case 0:
            return sensor("soc", "State of charge", "soc_pct", "battery", "%", "measurement")
        case 1:
            return sensor("inverter_power", "Inverter power", "inverter_w", "power", "W", "measurement")
        case 2:
            return sensor("grid_power", "Grid power", "grid_w", "power", "W", "measurement")
        case 3:
            return sensor("outlets_power", "Outlets power", "outlets_w", "power", "W", "measurement")
        case 4:
            return sensor("v2h_state", "V2H state", "state", "", "", "")
        case 5:
            return sensor("limit", "Governing limit", "limit_reason", "", "", "")
        case 6:
            return sensor("fault", "Fault", "fault", "", "", "")
        case 7:
            return sensor("last_fault", "Last fault", "last_fault", "", "", "")
        case 8:
            return sensor("energy_discharged", "Energy discharged", "energy_discharged_wh", "energy", "Wh", "total_increasing")
        case 9:
            return sensor("energy_charged", "Energy charged", "energy_charged_wh", "energy", "Wh", "total_increasing")
        case 10:
            return sensor("energy_outlets", "Outlets energy", "energy_outlets_wh", "energy", "Wh", "total_increasing")
        case 11: {
            // "setpoint" from the select holds 0 W until the setpoint number sends one (a mode
            // "setpoint" without setpoint_w would be refused by the validator).
            const e: any = { component: "select", id: "v2h_mode", name: "V2H mode", val_tpl: "{{ value_json.mode }}" }
            e.cmd_tpl = '{"mode":"{{ value }}"{% if value == \'setpoint\' %},"setpoint_w":0{% endif %}}'
            e.ops = V2H_MODES
            return e
        }
        case 12: {
            // A setpoint needs its mode in the same command (hems-command.ts).
            const e = number("setpoint", "V2H setpoint", "setpoint_w", -v.ratedPowerW, v.ratedPowerW, "W", false)
            e.cmd_tpl = '{"mode":"setpoint","setpoint_w":{{ value }}}'
            e.step = 10
            return e
        }
        case 13:
            return number("reserve", "V2H reserve", "reserve_pct", v.reserve.minPct, v.reserve.maxPct, "%", true)
        case 14:
            return number("charge_limit", "Charge limit", "charge_limit_pct", v.chargeLimit.minPct, v.chargeLimit.maxPct, "%", true)
        case 15:
            return number("soc_floor", "Outlet SoC floor", "soc_floor_pct", cfg.socFloor.minPct, cfg.socFloor.maxPct, "%", true)
        case 16: {
            const ops: string[] = []
            for (let k = 1; k <= cfg.outlets.count; k++) ops.push("" + k)
            const e: any = { component: "select", id: "outlet_priority", name: "Priority outlet", val_tpl: "{{ value_json.outlet_priority }}" }
            e.cmd_tpl = '{"outlet_priority":{{ value }}}'
            e.ops = ops
            e.ent_cat = "config"
            return e
        }
    }
    const k = i - FIXED_COUNT
    const n = Math.floor(k / PER_OUTLET) + 1
    const sel = "value_json.outlets[" + (n - 1) + "]"
    if (k % PER_OUTLET === 0) {
        const e: any = { component: "binary_sensor", id: "outlet" + n, name: "Outlet " + n, val_tpl: "{{ 'ON' if " + sel + ".on else 'OFF' }}" }
        e.dev_cla = "power"
        return e
    }
    return { component: "sensor", id: "outlet" + n + "_reason", name: "Outlet " + n + " reason", val_tpl: "{{ " + sel + ".reason }}" }
}

/** The device block every config carries (Home Assistant merges them by identifiers). */
function device(ctx: HaContext): any {
    const ha = ctx.cfg.mqtt.homeAssistant
    return {
        ids: [ctx.deviceId],
        name: "V2H charger " + haDeviceTag(ctx.deviceId),
        mdl: ha.model,
        mf: ha.manufacturer,
        sw: ctx.swVersion,
    }
}

/** Config `index` (0 <= index < haConfigCount): its retained topic and JSON payload. */
export function haConfig(index: number, ctx: HaContext): HaConfig {
    const e = entity(index, ctx.cfg)
    const component: string = e.component
    const id: string = e.id
    const body: any = {
        "~": ctx.topicPrefix,
        name: e.name,
        uniq_id: ctx.deviceId + "_" + id,
        stat_t: "~/status",
        avty_t: "~/status/online",
        pl_avail: "true",
        pl_not_avail: "false",
        dev: device(ctx),
    }
    for (const key of Object.keys(e)) if (key !== "component" && key !== "id" && key !== "name") body[key] = e[key]
    if (component === "select" || component === "number") body.cmd_t = "~/cmd"
    return {
        topic: ctx.discoveryPrefix + "/" + component + "/" + ctx.deviceId + "/" + id + "/config",
        payload: JSON.stringify(body),
    }
}
