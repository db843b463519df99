// Jacdac sensor servers that report a reading only when a fresh sample arrives from the chip.
// Unlike @devicescript/server's SensorServer (which re-sends the last value on its own timer), a
// failed chip read here sends nothing, so the firmware sees the reading go stale (meter_stale)
// instead of an old value that looks fresh. Shell code: no arithmetic here.
import * as ds from "@devicescript/core"
import { Server } from "@devicescript/server"

export class PushSensorServer<T> extends Server {
    private last: T
    private samples = 0
    private intervalMs: number

    constructor(spec: ds.ServiceSpec, intervalMs: number) {
        super(spec)
        this.intervalMs = intervalMs
    }

    /** The last good sample (for an explicit register read). */
    reading(): T {
        return this.last
    }

    streamingSamples() {
        return this.samples
    }
    set_streamingSamples(value: number) {
        this.samples = value
    }
    streamingInterval() {
        return this.intervalMs
    }
    set_streamingInterval(value: number) {
        this.intervalMs = value
    }
    streamingPreferredInterval() {
        return this.intervalMs
    }

    /** Stores and reports a fresh sample. */
    async publish(value: T) {
        this.last = value
        await this._send(this.spec.lookup("reading").encode(value))
    }
}
