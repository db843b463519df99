// Home Assistant discovery, shell side (core: core/hems/ha-discovery.ts). The MQTT link asks
// next() for one retained message per loop turn while it is connected; restart() (at every
// connect, and on Home Assistant's birth message: "online" on <discovery prefix>/status, i.e.
// Home Assistant restarted and lost its configs) starts the sequence again. Each config is built
// just before it is published, so only one is ever in the heap.
import { BUILD_COMMIT } from "./config/build.gen"
import { DEVS } from "./config/devs.gen"
import { HaContext, haBirthTopic, haConfig, haConfigCount } from "./core/hems/ha-discovery"
import { MqttSettings } from "./core/hems/mqtt-settings"

export class HaAnnouncer {
    private readonly ctx: HaContext
    readonly birthTopic: string
    private readonly count: number
    /** Index of the next config to publish; count when the announcement is complete. */
    private nextIndex: number

    constructor(settings: MqttSettings, deviceId: string) {
        this.ctx = { cfg: DEVS, discoveryPrefix: settings.haPrefix, topicPrefix: settings.prefix, deviceId: deviceId, swVersion: BUILD_COMMIT }
        this.birthTopic = haBirthTopic(settings.haPrefix)
        this.count = haConfigCount(DEVS)
        this.nextIndex = this.count
    }

    /** Announce (again) from the first config. */
    restart() {
        this.nextIndex = 0
    }

    /** A message on the birth topic. Retained copies are ignored: we announce at every connect anyway. */
    onBirth(payload: Buffer, retain: boolean) {
        if (!retain && payload.toString() === "online") this.restart()
    }

    /** The next discovery config to publish (retained), or null when none is due. */
    next(): { topic: string; payload: string } {
        if (this.nextIndex >= this.count) return null
        return haConfig(this.nextIndex++, this.ctx)
    }
}
