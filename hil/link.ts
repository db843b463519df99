// The bench's link to the firmware: a serial port speaking the Jacdac USB-bridge framing (a board
// on USB, or the stand-in's pseudo-terminal), or a devtools-style Jacdac hub over TCP. Either way
// the link carries frames between the bench's JDBus and the firmware, reopens itself when the
// port or socket goes away (a board unplugged, reset, re-enumerated), and keeps the figures the
// bench reports as link health.
import { connect, type Socket } from "node:net"
import { FRAME_SEND, type JDBus } from "jacdac-ts"
import { FrameReader, encodeFrame as encodeHubFrame } from "../sim/tcp-link"
import { JdUsbDecoder, USB_BRIDGE_CMD, bridgeCommand, encodeFrame } from "./jdusb"

/** No frame from the firmware for this long = the link is down (a DeviceScript device announces every 500 ms; jacdac-ts reconnects after ~1 s). */
export const LINK_SILENCE_MS = 1000
const REOPEN_EVERY_MS = 500
/** The USB bridge's speed on a DeviceScript ESP32 (a pseudo-terminal ignores it). */
export const JDUSB_BAUD = 1_500_000

export interface LinkOutage {
    /** Wall-clock ms (performance.now()) when frames stopped / came back (undefined while still down). */
    fromMs: number
    toMs?: number
}

export interface LinkHealth {
    framesIn: number
    framesOut: number
    /** Frames the decoder had to drop: bad CRC or size, framing errors. */
    framesLost: number
    /** Frames the device says it dropped (its USB queue overflowed). */
    deviceFrameGaps: number
    /** Times the port or socket was opened again after it closed. */
    reconnects: number
    outages: LinkOutage[]
    /** Device log lines seen between frames (serial links). */
    logLines: number
}

export interface BenchLink {
    readonly description: string
    /** Opens the port / connects; rejects with a message naming the port when it cannot. */
    open(): Promise<void>
    /** Carries frames between the bus and the firmware until the returned function is called. */
    attach(bus: JDBus): () => void
    health(): LinkHealth
    /** Whether frames came from the firmware within LINK_SILENCE_MS. */
    up(nowMs?: number): boolean
    close(): void
    /** Device log lines (serial links), for firmware.log. */
    onLog?: (line: string) => void
}

abstract class LinkBase implements BenchLink {
    abstract readonly description: string
    protected bus: JDBus | undefined
    protected lastFrameMs = -Infinity
    protected closed = false
    protected readonly h: LinkHealth = { framesIn: 0, framesOut: 0, framesLost: 0, deviceFrameGaps: 0, reconnects: 0, outages: [], logLines: 0 }
    private watchdog: ReturnType<typeof setInterval> | undefined
    onLog?: (line: string) => void

    abstract open(): Promise<void>
    protected abstract write(frame: Uint8Array): void

    attach(bus: JDBus): () => void {
        this.bus = bus
        const send = (frame: Uint8Array) => {
            this.h.framesOut++
            this.write(frame)
        }
        bus.on(FRAME_SEND, send)
        return () => {
            bus.off(FRAME_SEND, send)
            if (this.bus === bus) this.bus = undefined
        }
    }

    protected frameIn(frame: Uint8Array) {
        const now = performance.now()
        this.h.framesIn++
        const last = this.h.outages[this.h.outages.length - 1]
        if (last && last.toMs === undefined) last.toMs = now
        this.lastFrameMs = now
        this.bus?.processFrame(frame, "hil")
    }

    protected startWatchdog() {
        this.watchdog ??= setInterval(() => {
            const now = performance.now()
            const last = this.h.outages[this.h.outages.length - 1]
            const down = now - this.lastFrameMs > LINK_SILENCE_MS
            if (down && this.lastFrameMs > -Infinity && (!last || last.toMs !== undefined)) this.h.outages.push({ fromMs: this.lastFrameMs + LINK_SILENCE_MS })
        }, 100)
    }

    health(): LinkHealth {
        return { ...this.h, outages: this.h.outages.map(o => ({ ...o })) }
    }

    up(nowMs = performance.now()): boolean {
        return nowMs - this.lastFrameMs <= LINK_SILENCE_MS
    }

    close() {
        this.closed = true
        if (this.watchdog) clearInterval(this.watchdog)
    }
}

/** A serial port with the Jacdac USB-bridge framing. */
export class SerialLink extends LinkBase {
    readonly description: string
    private port: any
    private decoder: JdUsbDecoder
    private opened = 0

    constructor(
        private readonly path: string,
        private readonly baudRate = JDUSB_BAUD,
    ) {
        super()
        this.description = `serial ${path}`
        this.decoder = new JdUsbDecoder(
            f => this.frameIn(f),
            line => {
                this.h.logLines++
                this.onLog?.(line)
            },
        )
    }

    async open(): Promise<void> {
        let SerialPort: any
        try {
            ;({ SerialPort } = await import("serialport"))
        } catch (err: any) {
            throw new Error(`the serialport package is not installed (${err.message}); run npm install`)
        }
        await new Promise<void>((resolve, reject) => {
            const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false })
            port.open((err: Error | null) => {
                if (err) return reject(new Error(`cannot open ${this.path}: ${err.message}`))
                this.port = port
                if (this.opened++ > 0) this.h.reconnects++
                // Bytes queued while nobody held the port (a cut frame among them) are not this session's.
                port.flush()
                this.decoder.resync()
                port.on("data", (chunk: Buffer) => this.decoder.push(chunk))
                port.on("close", () => this.reopenLater())
                port.on("error", () => this.reopenLater())
                resolve()
            })
        })
        this.startWatchdog()
        // As the devtools do: ask the bridge to forward frames and log text, until frames come.
        this.enableBridge()
    }

    private enableBridge() {
        let tries = 0
        const ask = () => {
            if (this.closed || this.lastFrameMs > -Infinity || tries++ > 100) return
            this.writeRaw(encodeFrame(bridgeCommand(USB_BRIDGE_CMD.enablePackets)))
            this.writeRaw(encodeFrame(bridgeCommand(USB_BRIDGE_CMD.enableLog)))
            setTimeout(ask, 100)
        }
        ask()
    }

    private reopenLater() {
        if (this.closed || !this.port) return
        this.port = undefined
        this.lastFrameMs = -Infinity
        const retry = () => {
            if (this.closed) return
            this.open().catch(() => setTimeout(retry, REOPEN_EVERY_MS))
        }
        setTimeout(retry, REOPEN_EVERY_MS)
    }

    protected write(frame: Uint8Array) {
        this.writeRaw(encodeFrame(frame))
    }

    private writeRaw(bytes: Uint8Array) {
        if (this.port?.isOpen) this.port.write(Buffer.from(bytes))
    }

    override health(): LinkHealth {
        const h = super.health()
        const s = this.decoder.stats
        return { ...h, framesLost: s.badFrames + s.framingErrors, deviceFrameGaps: s.frameGaps }
    }

    override close() {
        super.close()
        const p = this.port
        this.port = undefined
        if (p?.isOpen) p.close()
    }
}

/** A devtools-style Jacdac hub on TCP (1-byte length + frame, or 0xff + 2-byte length). */
export class HubLink extends LinkBase {
    readonly description: string
    private sock: Socket | undefined
    private connected = 0

    constructor(
        private readonly host: string,
        private readonly port: number,
    ) {
        super()
        this.description = `hub tcp://${host}:${port}`
    }

    open(): Promise<void> {
        return new Promise((resolve, reject) => {
            const sock = connect(this.port, this.host)
            const reader = new FrameReader()
            sock.on("connect", () => {
                this.sock = sock
                if (this.connected++ > 0) this.h.reconnects++
                this.startWatchdog()
                resolve()
            })
            sock.on("data", chunk => {
                for (const f of reader.push(chunk)) this.frameIn(f)
            })
            sock.on("error", err => reject(new Error(`cannot reach the Jacdac hub at ${this.host}:${this.port}: ${err.message}`)))
            sock.on("close", () => {
                if (this.sock !== sock || this.closed) return
                this.sock = undefined
                const retry = () => {
                    if (!this.closed) this.open().catch(() => setTimeout(retry, REOPEN_EVERY_MS))
                }
                setTimeout(retry, REOPEN_EVERY_MS)
            })
        })
    }

    protected write(frame: Uint8Array) {
        if (this.sock && !this.sock.destroyed) this.sock.write(encodeHubFrame(frame))
    }

    override close() {
        super.close()
        this.sock?.destroy()
        this.sock = undefined
    }
}

/** Parses --hub tcp://HOST:PORT. */
export function parseHubUrl(url: string): { host: string; port: number } | string {
    const m = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(url)
    if (!m) return `${JSON.stringify(url)} is not tcp://HOST:PORT`
    const port = Number(m[2])
    if (port < 1 || port > 65535) return `port ${port} is out of range 1..65535`
    return { host: m[1], port }
}
