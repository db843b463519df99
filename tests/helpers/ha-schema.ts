// Home Assistant's MQTT discovery rules as a checker (there is no official JSON schema: Home
// Assistant validates in Python, per component, after expanding the abbreviations). Written from
// its mqtt integration: the discovery topic pattern, the abbreviations it expands
// (components/mqtt/abbreviations.py: ABBREVIATIONS and DEVICE_ABBREVIATIONS), the keys each
// component requires (sensor/binary_sensor: state_topic; select: command_topic and options;
// number: command_topic), the "~" base-topic expansion, entity/device classes and state classes,
// and the Energy panel's rule for energy sensors (device_class energy, state_class
// total_increasing, unit Wh or kWh). On top, what this project requires: every entity has a
// unique id, the availability topic with the firmware's payloads, a full device block, topics
// that exist in the firmware's topic tree, and a size bound per config.
import Ajv from "ajv"

/** Abbreviations Home Assistant expands (the subset relevant to the components used here; all are in its table). */
export const HA_ABBREVIATIONS: Record<string, string> = {
    "~": "~",
    avty_t: "availability_topic",
    pl_avail: "payload_available",
    pl_not_avail: "payload_not_available",
    stat_t: "state_topic",
    val_tpl: "value_template",
    cmd_t: "command_topic",
    cmd_tpl: "command_template",
    uniq_id: "unique_id",
    dev: "device",
    dev_cla: "device_class",
    stat_cla: "state_class",
    unit_of_meas: "unit_of_measurement",
    ent_cat: "entity_category",
    ops: "options",
    min: "min",
    max: "max",
    step: "step",
    mode: "mode",
    name: "name",
    ic: "icon",
    pl_on: "payload_on",
    pl_off: "payload_off",
    json_attr_t: "json_attributes_topic",
    json_attr_tpl: "json_attributes_template",
    exp_aft: "expire_after",
    en: "enabled_by_default",
}
export const HA_DEVICE_ABBREVIATIONS: Record<string, string> = {
    ids: "identifiers",
    name: "name",
    mf: "manufacturer",
    mdl: "model",
    sw: "sw_version",
    cns: "connections",
    cu: "configuration_url",
    sa: "suggested_area",
}

/** Discovery topic: <prefix>/<component>/[<node_id>/]<object_id>/config, ids of [a-zA-Z0-9_-]. */
const TOPIC = /^(.+)\/(sensor|binary_sensor|select|number|switch|button)\/(?:([a-zA-Z0-9_-]+)\/)?([a-zA-Z0-9_-]+)\/config$/

const SENSOR_DEVICE_CLASSES = ["battery", "power", "energy", "voltage", "current", "temperature", "frequency", "enum", "duration"]
const BINARY_SENSOR_DEVICE_CLASSES = ["power", "plug", "problem", "running", "safety", "battery_charging", "connectivity"]
const NUMBER_DEVICE_CLASSES = ["power", "battery", "energy", "current", "voltage"]

const common = {
    type: "object",
    propertyNames: { enum: Object.keys(HA_ABBREVIATIONS) },
    required: ["name", "uniq_id", "dev", "avty_t", "pl_avail", "pl_not_avail", "~"],
    properties: {
        "~": { type: "string", minLength: 1 },
        name: { type: "string", minLength: 1 },
        uniq_id: { type: "string", pattern: "^[a-zA-Z0-9_-]+$" },
        avty_t: { type: "string" },
        pl_avail: { const: "true" },
        pl_not_avail: { const: "false" },
        stat_t: { type: "string" },
        cmd_t: { type: "string" },
        val_tpl: { type: "string", pattern: "^\\{\\{.*\\}\\}$" },
        cmd_tpl: { type: "string", minLength: 3 },
        ent_cat: { enum: ["config", "diagnostic"] },
        unit_of_meas: { type: "string" },
        stat_cla: { enum: ["measurement", "total", "total_increasing"] },
        dev: {
            type: "object",
            propertyNames: { enum: Object.keys(HA_DEVICE_ABBREVIATIONS) },
            required: ["ids", "name", "mf", "mdl", "sw"],
            properties: {
                ids: { type: "array", minItems: 1, items: { type: "string", minLength: 1 } },
                name: { type: "string", minLength: 1 },
                mf: { type: "string", minLength: 1 },
                mdl: { type: "string", minLength: 1 },
                sw: { type: "string", minLength: 7 },
            },
        },
    },
}

const perComponent: Record<string, object> = {
    sensor: {
        required: ["stat_t", "val_tpl"],
        properties: { dev_cla: { enum: SENSOR_DEVICE_CLASSES } },
        not: { anyOf: [{ required: ["cmd_t"] }, { required: ["ops"] }, { required: ["min"] }] },
        // The Energy panel takes energy sensors that only grow, in Wh or kWh.
        if: { properties: { dev_cla: { const: "energy" } }, required: ["dev_cla"] },
        then: { required: ["stat_cla", "unit_of_meas"], properties: { stat_cla: { const: "total_increasing" }, unit_of_meas: { enum: ["Wh", "kWh"] } } },
    },
    binary_sensor: {
        required: ["stat_t", "val_tpl"],
        properties: { dev_cla: { enum: BINARY_SENSOR_DEVICE_CLASSES } },
        not: { anyOf: [{ required: ["cmd_t"] }, { required: ["stat_cla"] }, { required: ["unit_of_meas"] }] },
    },
    select: {
        required: ["cmd_t", "ops", "cmd_tpl"],
        properties: { ops: { type: "array", minItems: 1, uniqueItems: true, items: { type: "string", minLength: 1 } } },
        not: { anyOf: [{ required: ["min"] }, { required: ["unit_of_meas"] }] },
    },
    number: {
        required: ["cmd_t", "cmd_tpl", "min", "max", "step"],
        properties: {
            min: { type: "number" },
            max: { type: "number" },
            step: { type: "number", exclusiveMinimum: 0 },
            mode: { enum: ["auto", "box", "slider"] },
            dev_cla: { enum: NUMBER_DEVICE_CLASSES },
        },
        not: { required: ["ops"] },
    },
}

const ajv = new Ajv({ allErrors: true, strict: false })
const validators = Object.fromEntries(Object.entries(perComponent).map(([c, s]) => [c, ajv.compile({ allOf: [common, s] })]))

export interface FirmwareTopics {
    status: string
    online: string
    cmd: string
}

/** Topic values with Home Assistant's "~" expansion (a leading or trailing "~"). */
export function expandTilde(v: string, base: string): string {
    if (v.startsWith("~")) return base + v.slice(1)
    if (v.endsWith("~")) return v.slice(0, -1) + base
    return v
}

/**
 * Every problem of a set of discovery configs (empty: all valid). `topics`: the firmware's
 * topic tree for its prefix; `maxBytes`: the bound on topic + payload.
 */
export function haConfigProblems(configs: { topic: string; payload: string }[], discoveryPrefix: string, topics: FirmwareTopics, maxBytes: number): string[] {
    const out: string[] = []
    const ids = new Map<string, string>()
    const seen = new Set<string>()
    for (const c of configs) {
        const where = c.topic
        const m = TOPIC.exec(c.topic)
        if (!m) {
            out.push(`${where}: not a discovery topic <prefix>/<component>/[<node_id>/]<object_id>/config`)
            continue
        }
        if (m[1] !== discoveryPrefix) out.push(`${where}: not under the discovery prefix ${discoveryPrefix}`)
        if (seen.has(c.topic)) out.push(`${where}: published twice`)
        seen.add(c.topic)
        const bytes = Buffer.byteLength(c.topic) + Buffer.byteLength(c.payload)
        if (bytes > maxBytes) out.push(`${where}: ${bytes} bytes (topic + payload), over the bound of ${maxBytes}`)
        let body: any
        try {
            body = JSON.parse(c.payload)
        } catch {
            out.push(`${where}: payload is not JSON`)
            continue
        }
        const validate = validators[m[2]]
        if (!validate) {
            out.push(`${where}: component ${m[2]} not expected from this charger`)
            continue
        }
        if (!validate(body)) for (const e of validate.errors!) out.push(`${where}: ${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`)
        if (typeof body.uniq_id === "string") {
            if (ids.has(body.uniq_id)) out.push(`${where}: unique id ${body.uniq_id} also used by ${ids.get(body.uniq_id)}`)
            ids.set(body.uniq_id, where)
        }
        const base = body["~"] ?? ""
        const expect = (key: string, want: string) => {
            if (body[key] !== undefined && expandTilde(body[key], base) !== want) out.push(`${where}: ${key} = ${body[key]} is ${expandTilde(body[key], base)}, not the firmware's ${want}`)
        }
        expect("stat_t", topics.status)
        expect("avty_t", topics.online)
        expect("cmd_t", topics.cmd)
        if (m[2] === "number" && !(body.min < body.max)) out.push(`${where}: min ${body.min} is not below max ${body.max}`)
    }
    return out
}
