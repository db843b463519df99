// Home Assistant discovery, shell side. The configs are defined in core/hems/ha-discovery.ts and
// rendered at build time into templates (src/config/ha.gen.ts); here they are only filled in
// with the run-time values (core/hems/ha-template.ts). The MQTT link asks next() for one
// retained message per loop turn while it is connected; restart() (at every connect, and on
// Home Assistant's birth message: "online" on <discovery prefix>/status, i.e. Home Assistant
// restarted and lost its configs) starts the sequence again. Each config is filled just before
// it is published, so only one is ever in the heap.
import { BUILD_COMMIT } from "./config/build.gen"
import { HA_TEMPLATES } from "./config/ha.gen"
import { haBirthTopic, haConfigAt, haTemplateValues } from "./core/hems/ha-template"
import { MqttSettings } from "./core/hems/mqtt-settings"

export class HaAnnouncer {
    private readonly values: string[]
    readonly birthTopic: string
    /** Offset in HA_TEMPLATES of the next config to publish; its length when the announcement is complete. */
    private nextAt: number

    constructor(settings: MqttSettings, deviceId: string) {
        this.values = haTemplateValues(settings.haPrefix, settings.prefix, deviceId, BUILD_COMMIT)
        this.birthTopic = haBirthTopic(settings.haPrefix)
        this.nextAt = HA_TEMPLATES.length
    }

    /** Announce (again) from the first config. */
    restart() {
        this.nextAt = 0
    }

    /** A message on the birth topic. Retained copies are ignored: we announce at every connect anyway. */
    onBirth(payload: Buffer, retain: boolean) {
        if (!retain && payload.toString() === "online") this.restart()
    }

    /** The next discovery config to publish (retained), or null when none is due. */
    next(): { topic: string; payload: string } {
        const c = haConfigAt(HA_TEMPLATES, this.nextAt, this.values)
        if (c) this.nextAt = c.next
        return c
    }
}
