// The MQTT link's receive side: takes the socket's events from @devicescript/net and decodes each
// received chunk at once, in the event itself. Why: the runtime puts every chunk it reads on the
// heap as a Buffer (devicescript-esp32 sock.c reads all the network stack holds, once per
// main-loop pass), whether the program reads or not; left in the library's queue, a fast broker
// or a long message filled the 64 KB heap faster than the link's loop could read it. Decoded on
// arrival, an oversize message is skipped as it streams in, a command over the rate limit is
// counted and dropped (the `admit` callback), and only whole packets the loop must act on wait,
// their payload bytes bounded by mqtt.rxBacklogMaxBytes (beyond it a packet is dropped and
// counted: QoS 0 is at most once). Open, close and error still go to the library's socket (its
// connect and close need them). Shell code: the decisions are the decoder's and the link's.
import * as ds from "@devicescript/core"
import { Socket } from "@devicescript/net"
import { MqttDecoder, MqttIn } from "./core/hems/mqtt-decoder"

/** What a waiting packet costs the heap besides its payload (object and fields), for the bound. */
const PACKET_OVERHEAD_BYTES = 48

function packetBytes(p: MqttIn): number {
    return PACKET_OVERHEAD_BYTES + (p.payload ? p.payload.length : 0)
}

export class MqttIntake {
    private inbox: MqttIn[] = []
    private bytes = 0
    private readonly arrived = ds.emitter<boolean>()
    /** Counts sockets, so a late event of an old socket is never taken for the current one's. */
    private gen = 0
    /** Most bytes waiting at once, since boot. */
    peakBytes = 0
    /** Packets dropped because the bound was reached, since boot. */
    dropped = 0
    /** Why the socket ended (its close or error event), null while it is open. */
    ended: string = null

    constructor(
        private readonly decoder: MqttDecoder,
        private readonly maxBytes: number,
        private readonly admit: (p: MqttIn, nowMs: number) => boolean,
    ) {}

    /** Call right after connect(): from now on this socket's data comes here. */
    attach(sock: Socket) {
        const dsAny = ds as any
        const library = dsAny._socketOnEvent
        const intake = this
        const gen = ++this.gen
        this.inbox = []
        this.bytes = 0
        this.ended = null
        dsAny._socketOnEvent = (event: string, arg: any) => {
            if (gen !== intake.gen) return library(event, arg)
            if (event === "data") return intake.arrive(arg as Buffer)
            library(event, arg)
            if (event === "close" || event === "error") {
                intake.ended = event === "error" ? "socket error: " + arg : intake.decoder.midPacket() ? "closed by the broker mid-packet" : "closed by the broker"
                intake.arrived.emit(true)
            }
        }
        // Anything the broker sent before this went to the library's queue: take it too.
        const early: Buffer[] = (sock as any).buffers
        while (early && early.length) this.arrive(early.shift())
    }

    private arrive(chunk: Buffer) {
        if (!chunk) return
        const now = ds.millis()
        this.decoder.push(chunk)
        for (;;) {
            const p = this.decoder.next()
            if (!p) break
            if (!this.admit(p, now)) continue
            const n = packetBytes(p)
            if (this.bytes + n > this.maxBytes) {
                this.dropped++
                continue
            }
            this.inbox.push(p)
            this.bytes += n
            if (this.bytes > this.peakBytes) this.peakBytes = this.bytes
        }
        this.arrived.emit(true)
    }

    /** The oldest waiting packet; waits up to `timeoutMs` for one. Null when none (or the socket ended). */
    async next(timeoutMs: number): Promise<MqttIn> {
        if (!this.inbox.length && this.ended === null) await ds.wait(this.arrived, timeoutMs)
        const p = this.inbox.shift()
        if (!p) return null
        this.bytes -= packetBytes(p)
        return p
    }
}
