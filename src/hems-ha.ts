// Home Assistant discovery, shell side (core: core/hems/ha-discovery.ts). The MQTT link calls
// announce() once it is connected, and passes Home Assistant's birth messages to onBirth(); a
// birth ("online" on <discovery prefix>/status: Home Assistant restarted and lost its configs)
// makes the next loop announce again. Configs go out one at a time, retained, each built just
// before it is published, so only one is ever in the heap.
import { MQTTMessage } from "@devicescript/net"
import { BUILD_COMMIT } from "./config/build.gen"
import { DEVS } from "./config/devs.gen"
import { HaContext, haBirthTopic, haConfig, haConfigCount } from "./core/hems/ha-discovery"
import { MqttSettings } from "./core/hems/mqtt-settings"

export type Publish = (topic: string, payload: string, retain: boolean) => Promise<boolean>

export class HaAnnouncer {
    private readonly ctx: HaContext
    readonly birthTopic: string
    /** Set by a birth message; the link's loop announces again and clears it. */
    due = false

    constructor(settings: MqttSettings, deviceId: string) {
        this.ctx = { cfg: DEVS, discoveryPrefix: settings.haPrefix, topicPrefix: settings.prefix, deviceId: deviceId, swVersion: BUILD_COMMIT }
        this.birthTopic = haBirthTopic(settings.haPrefix)
    }

    /** A message on the birth topic. Retained copies are ignored: we announce at every connect anyway. */
    onBirth(msg: MQTTMessage) {
        if (msg.topic !== this.birthTopic || msg.retain) return
        if (msg.content && msg.content.toString() === "online") this.due = true
    }

    /** Publishes every discovery config, retained. false when a publish failed (connection gone). */
    async announce(publish: Publish): Promise<boolean> {
        this.due = false
        const n = haConfigCount(DEVS)
        for (let i = 0; i < n; i++) {
            const c = haConfig(i, this.ctx)
            if (!(await publish(c.topic, c.payload, true))) return false
        }
        return true
    }
}
