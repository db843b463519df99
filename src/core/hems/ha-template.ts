// Home Assistant discovery, the run-time half. The configs themselves are defined in
// ha-discovery.ts; scripts/lib/ha-templates.ts renders them at build time (npm run gen:config)
// into src/config/ha.gen.ts, one packed text holding per config a topic template and a payload
// template in which only the run-time values are left open. The firmware fills them here, one
// config at a time: no config is built from objects on the device, so none of the builders'
// code is in the image (docs/home-assistant.md).
//
// Packed text: for each config, topic template, HA_TOPIC_END, payload template, HA_RECORD_END.
// A placeholder is HA_MARK followed by one digit, the index of its value in haTemplateValues.
// Control characters never occur in the fixed text: JSON.stringify escapes them in a payload,
// and the generator refuses a topic that holds one. In a payload every value stands inside a
// JSON string, so it is filled in JSON-escaped, exactly as JSON.stringify would have written it.
// Pure; DeviceScript subset.

export const HA_MARK = "\u0001"
export const HA_TOPIC_END = "\u001f"
export const HA_RECORD_END = "\u001e"

/** Home Assistant's birth / last-will topic: "online" there means it (re)started. */
export function haBirthTopic(discoveryPrefix: string): string {
    return discoveryPrefix + "/status"
}

/** The device's short tag in its Home Assistant name: the device id's last 4 characters. */
export function haDeviceTag(deviceId: string): string {
    return deviceId.slice(deviceId.length - 4)
}

/**
 * The values a template's placeholders stand for, by index: the discovery prefix (setting
 * mqttHaPrefix), the charger's topic prefix (mqttPrefix), the device id, its tag, the software
 * version (the build's commit).
 */
export function haTemplateValues(discoveryPrefix: string, topicPrefix: string, deviceId: string, swVersion: string): string[] {
    return [discoveryPrefix, topicPrefix, deviceId, haDeviceTag(deviceId), swVersion]
}

/**
 * The template text[from, to) with every placeholder replaced by its value (JSON-escaped when
 * json); values are not scanned again. Read in place: the template is never copied.
 */
export function fillHaTemplate(text: string, from: number, to: number, values: string[], json: boolean): string {
    let out = ""
    for (;;) {
        const at = text.indexOf(HA_MARK, from)
        if (at < 0 || at >= to) return out + text.slice(from, to)
        let v = values[text.charCodeAt(at + 1) - 48]
        if (json) {
            v = JSON.stringify(v)
            v = v.slice(1, v.length - 1)
        }
        out = out + text.slice(from, at) + v
        from = at + 2
    }
}

/** A filled config, and the offset of the next one in the packed text. */
export interface HaFilled {
    topic: string
    payload: string
    next: number
}

/** The config starting at offset `at` of the packed text, filled; null past the last one. */
export function haConfigAt(packed: string, at: number, values: string[]): HaFilled {
    if (at >= packed.length) return null
    const cut = packed.indexOf(HA_TOPIC_END, at)
    const end = packed.indexOf(HA_RECORD_END, cut)
    return {
        topic: fillHaTemplate(packed, at, cut, values, false),
        payload: fillHaTemplate(packed, cut + 1, end, values, true),
        next: end + 1,
    }
}
