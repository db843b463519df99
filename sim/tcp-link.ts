// Connects the simulated plant's bus to a Jacdac hub over TCP (the DeviceScript devtools'
// hub on 127.0.0.1:8082), for `npm run watch`. Frame on the wire: 1-byte length + frame, or
// 0xff + 2-byte little-endian length + frame.
import { connect, type Socket } from "node:net"
import { FRAME_SEND, type JDBus } from "jacdac-ts"

export const DEVTOOLS_TCP_PORT = 8082

/** One frame in the hub's TCP framing. */
export function encodeFrame(frame: Uint8Array): Buffer {
    if (frame.length < 0xff) return Buffer.concat([Buffer.from([frame.length]), frame])
    const head = Buffer.from([0xff, frame.length & 0xff, frame.length >> 8])
    return Buffer.concat([head, frame])
}

/** Splits a TCP byte stream into frames. */
export class FrameReader {
    private buf = Buffer.alloc(0)
    push(chunk: Buffer): Uint8Array[] {
        this.buf = Buffer.concat([this.buf, chunk])
        const out: Uint8Array[] = []
        for (;;) {
            if (this.buf.length < 1) break
            let len = this.buf[0]
            let head = 1
            if (len === 0xff) {
                if (this.buf.length < 3) break
                len = this.buf[1] | (this.buf[2] << 8)
                head = 3
            }
            if (this.buf.length < head + len) break
            out.push(new Uint8Array(this.buf.subarray(head, head + len)))
            this.buf = this.buf.subarray(head + len)
        }
        return out
    }
}

/** Bridges the bus to the hub; resolves once connected. Returns a function that closes it. */
export function connectHub(bus: JDBus, port = DEVTOOLS_TCP_PORT, host = "127.0.0.1"): Promise<() => void> {
    return new Promise((resolve, reject) => {
        const sock: Socket = connect(port, host)
        const reader = new FrameReader()
        const send = (frame: Uint8Array) => {
            if (!sock.destroyed) sock.write(encodeFrame(frame))
        }
        sock.on("connect", () => {
            bus.on(FRAME_SEND, send)
            resolve(() => {
                bus.off(FRAME_SEND, send)
                sock.destroy()
            })
        })
        sock.on("data", chunk => {
            for (const f of reader.push(chunk)) bus.processFrame(f, "hub")
        })
        sock.on("error", err => reject(new Error(`cannot reach the Jacdac hub at ${host}:${port}: ${err.message}`)))
    })
}
