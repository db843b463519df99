// The Jacdac USB bridge framing ("jdusb") that a DeviceScript ESP32 speaks on its USB serial link:
// Jacdac frames between 0xFE 0xFC (start) and 0xFE 0xFD (end), a literal 0xFE inside a frame sent
// as 0xFE 0xF8, and the device's log text interleaved between frames. The device marks what its
// ~2 KB USB queue had to drop with 0xFE 0xFB (frames skipped) and 0xFE 0xFA (log text skipped).
// The host turns frame forwarding on with a USB-bridge command (EnablePackets) sent to the bridge's
// service class. Written from the protocol as jacdac-ts (src/jdom/transport/jdusb.ts) and jacdac-c
// implement it; both ends here (the bench's host side, the stand-in's device side) use this codec.
import { crc } from "jacdac-ts"

export const MAGIC = 0xfe
export const LITERAL_MAGIC = 0xf8
export const SERIAL_GAP = 0xfa
export const FRAME_GAP = 0xfb
export const FRAME_START = 0xfc
export const FRAME_END = 0xfd

/** The USB bridge "service" (commands addressed to its class, never forwarded to the bus). */
export const SRV_USB_BRIDGE = 0x18f61a4a
export const USB_BRIDGE_CMD = { disablePackets: 0x80, enablePackets: 0x81, disableLog: 0x82, enableLog: 0x83 } as const

/** JD_FRAME_FLAG_IDENTIFIER_IS_SERVICE_CLASS / _COMMAND / _LOOPBACK. */
const FLAG_SERVICE_CLASS = 0x04
const FLAG_COMMAND = 0x01
const FLAG_LOOPBACK = 0x40
/** Frames are at most 255 + 12 bytes. */
const MAX_FRAME_BYTES = 268

/** One frame, escaped and delimited. */
export function encodeFrame(frame: Uint8Array): Uint8Array {
    const out: number[] = [MAGIC, FRAME_START]
    for (const b of frame) {
        out.push(b)
        if (b === MAGIC) out.push(LITERAL_MAGIC)
    }
    out.push(MAGIC, FRAME_END)
    return Uint8Array.from(out)
}

/** Log text as the device sends it between frames (a 0xFE in the text is escaped too). */
export function encodeText(text: string): Uint8Array {
    const bytes = Buffer.from(text, "utf8")
    const out: number[] = []
    for (const b of bytes) {
        out.push(b)
        if (b === MAGIC) out.push(LITERAL_MAGIC)
    }
    return Uint8Array.from(out)
}

/** Sets the frame's CRC (bytes 0..1) over bytes 2.. and returns it. */
export function withCrc(frame: Uint8Array): Uint8Array {
    const c = crc(frame.subarray(2))
    frame[0] = c & 0xff
    frame[1] = c >> 8
    return frame
}

/** Whether a frame's size field and CRC hold. */
export function frameValid(frame: Uint8Array): boolean {
    if (frame.length < 12 || frame.length < frame[2] + 12) return false
    const c = crc(frame.subarray(2, frame[2] + 12))
    return frame[0] === (c & 0xff) && frame[1] === c >> 8
}

/** A USB-bridge command frame (EnablePackets, EnableLog...). */
export function bridgeCommand(cmd: number): Uint8Array {
    const f = new Uint8Array(16)
    f[2] = 4 // payload: one packet header, no data
    f[3] = FLAG_SERVICE_CLASS | FLAG_COMMAND | FLAG_LOOPBACK
    new DataView(f.buffer).setUint32(4, SRV_USB_BRIDGE, true)
    new DataView(f.buffer).setUint32(8, 0xaaaaaaaa, true) // JD_DEVICE_IDENTIFIER_BROADCAST_HIGH_MARK
    f[12] = 0 // service size
    f[13] = 0x3d // JD_SERVICE_INDEX_BROADCAST
    new DataView(f.buffer).setUint16(14, cmd, true)
    return withCrc(f)
}

/** The USB-bridge command carried by a frame, or undefined if it is an ordinary Jacdac frame. */
export function bridgeCommandOf(frame: Uint8Array): number | undefined {
    if (frame.length < 16 || !(frame[3] & FLAG_SERVICE_CLASS)) return undefined
    if (new DataView(frame.buffer, frame.byteOffset).getUint32(4, true) !== SRV_USB_BRIDGE) return undefined
    return frame[14] | (frame[15] << 8)
}

export interface DecoderStats {
    frames: number
    /** Frames whose size or CRC was wrong (line noise, a cut transfer). */
    badFrames: number
    /** Framing errors: a start inside a frame, an end without a start, an unknown escape, an overlong frame. */
    framingErrors: number
    /** "Frames skipped" markers: the device's USB queue overflowed. */
    frameGaps: number
    /** "Log text skipped" markers. */
    serialGaps: number
    /** Bad frames and framing errors before the first good frame (joining a stream midway), not counted above. */
    beforeSync: number
}

/** Streaming decoder: bytes in any chunking -> valid frames and log lines. */
export class JdUsbDecoder {
    readonly stats: DecoderStats = { frames: 0, badFrames: 0, framingErrors: 0, frameGaps: 0, serialGaps: 0, beforeSync: 0 }
    private synced = false
    private escaped = false
    private inFrame = false
    private frame: number[] = []
    private text: number[] = []

    constructor(
        private readonly onFrame: (frame: Uint8Array) => void,
        private readonly onLog: (line: string) => void = () => {},
    ) {}

    push(chunk: Uint8Array) {
        for (const c of chunk) {
            if (this.escaped) {
                this.escaped = false
                switch (c) {
                    case LITERAL_MAGIC:
                        this.byte(MAGIC)
                        break
                    case FRAME_START:
                        if (this.inFrame) this.framingError()
                        this.inFrame = true
                        this.frame = []
                        break
                    case FRAME_END:
                        if (!this.inFrame) this.countError("framingErrors")
                        else this.endFrame()
                        break
                    case FRAME_GAP:
                        this.stats.frameGaps++
                        break
                    case SERIAL_GAP:
                        this.stats.serialGaps++
                        break
                    case MAGIC:
                        // 0xFE 0xFE: the first one was not an escape; treat the second as one.
                        if (this.inFrame) this.framingError()
                        this.escaped = true
                        break
                    default:
                        if (this.inFrame) this.framingError()
                        else this.byte(MAGIC), this.byte(c)
                }
            } else if (c === MAGIC) this.escaped = true
            else this.byte(c)
        }
    }

    private byte(b: number) {
        if (!this.inFrame) {
            if (b === 10 || b === 13) this.flushText()
            else if (b !== 0) this.text.push(b) // hosts pad their writes with zeros
            return
        }
        if (this.frame.length >= MAX_FRAME_BYTES) {
            this.framingError()
            return
        }
        this.frame.push(b)
    }

    private endFrame() {
        this.inFrame = false
        const f = Uint8Array.from(this.frame)
        this.frame = []
        if (!frameValid(f)) {
            this.countError("badFrames")
            return
        }
        this.synced = true
        this.stats.frames++
        this.onFrame(f.subarray(0, f[2] + 12))
    }

    /** The stream starts again (a port reopened): the next bytes may join a frame midway. */
    resync() {
        this.synced = false
        this.escaped = false
        this.inFrame = false
        this.frame = []
    }

    private countError(kind: "badFrames" | "framingErrors") {
        if (this.synced) this.stats[kind]++
        else this.stats.beforeSync++
    }

    private framingError() {
        this.countError("framingErrors")
        this.inFrame = false
        this.frame = []
    }

    private flushText() {
        if (!this.text.length) return
        const line = Buffer.from(this.text).toString("utf8")
        this.text = []
        this.onLog(line)
    }
}
