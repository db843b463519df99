// A raw-socket MQTT "broker" for the attacks no well-behaved broker makes: it answers the
// firmware's CONNECT / SUBSCRIBE / PINGREQ like a broker (unless told not to) and lets a test
// write any bytes at all to the firmware: malformed remaining lengths, 16 KB+ packets, truncated
// or stalled packets, a second CONNACK, unknown packet types, QoS 1/2 publishes, other topics.
// What the firmware sends is parsed with mqtt-packet (an independent implementation) and kept.
// Listens on 127.0.0.1 on an ephemeral port.
import { createServer, type Server, type Socket } from "node:net"
import mqttPacket from "mqtt-packet"

export interface FromFirmware {
    atMs: number
    packet: any
}

export class FakeBroker {
    private server: Server
    port = 0
    /** The firmware's current connection (the last one). */
    conn: Socket | undefined
    /** Every CONNECT, with the time it came and the return code we answered. */
    readonly connects: { atMs: number; returnCode: number }[] = []
    /** Every packet the firmware sent, in order. */
    readonly received: FromFirmware[] = []
    /** CONNACK return code to answer with (0 = accept). */
    connackCode = 0
    /** false: PINGREQ goes unanswered (a broker that stopped answering). */
    answerPings = true
    /** Set by silenceThisConnection: the next connection is answered again. */
    private silentUntilNext = false
    private t0 = performance.now()

    constructor() {
        this.server = createServer(sock => this.accept(sock))
    }

    async listen(): Promise<number> {
        await new Promise<void>(r => this.server.listen(0, "127.0.0.1", () => r()))
        this.port = (this.server.address() as any).port
        return this.port
    }

    async close() {
        this.conn?.destroy()
        await new Promise(r => this.server.close(r))
    }

    nowMs() {
        return performance.now() - this.t0
    }

    /** Stops answering PINGREQ on the current connection only (a broker gone silent). */
    silenceThisConnection() {
        this.answerPings = false
        this.silentUntilNext = true
    }

    private accept(sock: Socket) {
        if (this.silentUntilNext) {
            this.silentUntilNext = false
            this.answerPings = true
        }
        this.conn?.destroy()
        this.conn = sock
        const parser = mqttPacket.parser({ protocolVersion: 4 })
        parser.on("packet", (p: any) => {
            this.received.push({ atMs: this.nowMs(), packet: p })
            if (sock !== this.conn) return
            if (p.cmd === "connect") {
                this.connects.push({ atMs: this.nowMs(), returnCode: this.connackCode })
                sock.write(gen({ cmd: "connack", returnCode: this.connackCode, sessionPresent: false }))
                if (this.connackCode !== 0) setTimeout(() => sock.destroy(), 50)
            } else if (p.cmd === "subscribe") {
                sock.write(gen({ cmd: "suback", messageId: p.messageId, granted: p.subscriptions.map(() => 0) }))
            } else if (p.cmd === "pingreq" && this.answerPings) {
                sock.write(gen({ cmd: "pingresp" }))
            }
        })
        parser.on("error", () => sock.destroy())
        sock.on("data", b => parser.parse(b))
        sock.on("error", () => {})
    }

    /** Writes raw bytes to the firmware's connection (in one write: one TCP read on loopback). */
    write(bytes: Buffer) {
        this.conn?.write(bytes)
    }

    /** Ends the firmware's connection (TCP close, no MQTT goodbye). */
    drop() {
        this.conn?.destroy()
        this.conn = undefined
    }

    /** The firmware's packets of one kind (e.g. "puback"), optionally since a time. */
    packets(cmd: string, sinceMs = 0): any[] {
        return this.received.filter(r => r.packet.cmd === cmd && r.atMs >= sinceMs).map(r => r.packet)
    }

    /** Payloads the firmware published on `topic` since a time, as text. */
    published(topic: string, sinceMs = 0): { atMs: number; text: string }[] {
        return this.received.filter(r => r.packet.cmd === "publish" && r.packet.topic === topic && r.atMs >= sinceMs).map(r => ({ atMs: r.atMs, text: r.packet.payload.toString() }))
    }
}

/** Packet bytes from mqtt-packet (MQTT 3.1.1). */
export function gen(p: object): Buffer {
    return Buffer.from(mqttPacket.generate(p as any, { protocolVersion: 4 }))
}

/** A PUBLISH from the broker to the firmware. */
export function publish(topic: string, payload: string | Buffer, qos: 0 | 1 | 2 = 0, messageId?: number, retain = false): Buffer {
    return gen({ cmd: "publish", topic, payload: typeof payload === "string" ? Buffer.from(payload) : payload, qos, messageId, retain, dup: false })
}
