// The VM's one TCP/TLS socket, delivered to the firmware the way a board's network stack does
// rather than the way Node's does.
//
// The DeviceScript VM copies every received chunk into a Buffer on its 64 KB GC heap (an
// allocation that cannot be had panics the VM: PANIC 60004, before any firmware code runs).
// The VM's own Node socket hands it whatever Node read: up to 64 KB at once, and as many reads
// in a row as the sender can push, whatever the firmware has consumed. No device does that: the
// ESP32 runtime (devicescript-esp32 main/sock.c) reads from lwIP once per main-loop pass, in
// 128-byte pieces, and never more than the TCP receive window holds (ESP-IDF
// CONFIG_LWIP_TCP_WND_DEFAULT 5744 bytes); TCP flow control holds the sender back meanwhile.
//
// So here, like the ESP32: per main-loop turn (here: per millisecond of the VM's clock; the WASM VM
// also runs extra scheduler passes for every Jacdac frame, which a board's loop does not), at most
// `windowBytes` (one receive window) are delivered, as socket events of at most `readBytes` each
// (128, sock.c's buffer); the Node
// socket is paused while more than `holdBytes` wait on the host side (TCP flow control).
// (Measured: with one 5,744-byte event per pass instead, the VM ran out of memory on a
// fragmented heap, 30 KB free but no 5.7 KB block: an artefact a board does not have.)
//
// Replaces the VM module's sockOpen / sockWrite / sockClose (the VM looks them up when called);
// TLS is Node's tls.connect({host, port}) with default options, as in the VM itself
// (certificates verified against Node's CA store, extended by NODE_EXTRA_CA_CERTS).
import * as net from "node:net"
import * as tls from "node:tls"
import type { DevsVm } from "./devs-vm"

export interface SocketModel {
    /** Largest chunk handed to the VM in one socket event (bytes). Default 128 (devicescript-esp32 sock.c). */
    readBytes?: number
    /** Bytes delivered per millisecond of the VM clock at most. Default 5744 (ESP-IDF lwIP TCP receive window). */
    windowBytes?: number
    /** Host-side bytes waiting beyond which the Node socket is paused. Default 64 KB. */
    holdBytes?: number
}

const JD_CONN_EV_OPEN = 1
const JD_CONN_EV_CLOSE = 2
const JD_CONN_EV_ERROR = 3
const JD_CONN_EV_MESSAGE = 4

interface VmSockets {
    HEAPU8: Uint8Array
    _malloc(n: number): number
    _free(p: number): void
    _jd_em_tcpsock_on_event(ev: number, ptr: number, len: number): void
    _jd_em_process(): number
    sockOpen(hostPtr: number, port: number): number
    sockWrite(ptr: number, len: number): number
    sockClose(): number
}

function cString(heap: Uint8Array, ptr: number, max: number): string {
    let end = ptr
    while (end < ptr + max && heap[end] !== 0) end++
    return Buffer.from(heap.subarray(ptr, end)).toString("utf8")
}

export function installSocketModel(vmIn: DevsVm, model: SocketModel = {}, now: () => number = Date.now) {
    const vm = vmIn as unknown as VmSockets
    const readBytes = model.readBytes ?? 128
    const windowBytes = model.windowBytes ?? 5744
    const holdBytes = model.holdBytes ?? 65536
    let sock: net.Socket | undefined
    /** Received, not yet delivered; an { ev } entry is the close / error that follows the data. */
    let queue: (Buffer | { ev: number; msg?: string })[] = []
    let queuedBytes = 0
    let deliveredThisPass = 0
    let scheduled = false

    function event(ev: number, data?: Buffer | string) {
        const bytes = typeof data === "string" ? Buffer.from(data) : data
        let ptr = 0
        if (bytes && bytes.length) {
            ptr = vm._malloc(bytes.length)
            vm.HEAPU8.set(bytes, ptr)
        }
        vm._jd_em_tcpsock_on_event(ev, ptr, bytes ? bytes.length : 0)
        if (ptr) vm._free(ptr)
    }

    /** Delivers what is left of this window (and any close/error right behind the data). */
    function deliver() {
        scheduled = false
        while (queue.length && deliveredThisPass < windowBytes) {
            const head = queue[0]
            if (!Buffer.isBuffer(head)) {
                queue.shift()
                event(head.ev, head.msg)
                continue
            }
            const n = Math.min(readBytes, head.length, windowBytes - deliveredThisPass)
            const out = head.subarray(0, n)
            if (n === head.length) queue.shift()
            else queue[0] = head.subarray(n)
            queuedBytes -= n
            deliveredThisPass += n
            event(JD_CONN_EV_MESSAGE, out)
        }
        // A close right behind the data goes with it (the device's recv loop sees both in one pass).
        while (queue.length && !Buffer.isBuffer(queue[0])) {
            const e = queue.shift() as { ev: number; msg?: string }
            event(e.ev, e.msg)
        }
        if (sock && sock.isPaused() && queuedBytes < holdBytes / 2) sock.resume()
    }

    function soon() {
        if (!scheduled) {
            scheduled = true
            queueMicrotask(deliver)
        }
    }

    // A new window once the VM has run in a later millisecond than the last delivery.
    let windowAtMs = -1
    const process = vm._jd_em_process.bind(vm)
    vm._jd_em_process = () => {
        const r = process()
        const t = now()
        if (t !== windowAtMs) {
            windowAtMs = t
            deliveredThisPass = 0
        }
        if (queue.length) soon()
        return r
    }

    vm.sockOpen = (hostPtr: number, port: number) => {
        const host = cString(vm.HEAPU8, hostPtr, 256)
        const isTls = port < 0
        if (isTls) port = -port
        const name = `${isTls ? "tls" : "tcp"}://${host}:${port}`
        sock?.destroy()
        queue = []
        queuedBytes = 0
        const s: net.Socket = isTls ? tls.connect({ host, port }) : net.createConnection({ host, port })
        sock = s
        s.once("connect", () => {
            if (s === sock && !isTls) event(JD_CONN_EV_OPEN)
        })
        if (isTls) (s as tls.TLSSocket).once("secureConnect", () => s === sock && event(JD_CONN_EV_OPEN))
        s.on("data", (buf: Buffer) => {
            if (s !== sock) return
            queue.push(buf)
            queuedBytes += buf.length
            if (queuedBytes > holdBytes) s.pause()
            soon()
        })
        s.on("error", (err: Error) => {
            if (s !== sock) return
            queue.push({ ev: JD_CONN_EV_ERROR, msg: `${name}: ${err.message}` })
            sock = undefined
            soon()
        })
        s.on("close", () => {
            if (s !== sock) return
            queue.push({ ev: JD_CONN_EV_CLOSE })
            sock = undefined
            soon()
        })
        return 0
    }
    vm.sockWrite = (ptr: number, len: number) => {
        if (!sock) return -10
        sock.write(Buffer.from(vm.HEAPU8.slice(ptr, ptr + len)))
        return 0
    }
    vm.sockClose = () => {
        if (!sock) return -10
        sock.end()
        sock = undefined
        queue = []
        queuedBytes = 0
        return 0
    }
}
