// npm run standin [-- --board <id>] [--tcp] [--verbose]
// A stand-in board for the HIL bench without hardware: the firmware bytecode in the DeviceScript
// VM, on the wall clock, behind a pseudo-terminal that speaks the Jacdac USB-bridge framing the
// way a DeviceScript ESP32's USB port does (frames forwarded once the host sends EnablePackets,
// log text between frames, a Control reset restarts the program with its flash kept). Prints
// `port: <path>` as its first line and runs until stopped (SIGINT/SIGTERM).
//
// Without --board it runs the simulator's entry (src/main.ts, the bytecode `npm run sim` runs);
// with --board <id> the board's HIL image (`npm run build -- --board <id> --hil`).
// SIGUSR2 toggles an "unplugged" state (nothing crosses the port) to exercise link loss.
// --tcp: instead of the pty, a devtools-style Jacdac hub on 127.0.0.1 (an ephemeral port) with the
// firmware VM on it; prints `hub: tcp://127.0.0.1:<port>` as its first line (for `--hub`).
import { spawn } from "node:child_process"
import { createServer, type AddressInfo, type Socket } from "node:net"
import { FrameReader, encodeFrame as encodeHubFrame } from "../sim/tcp-link"
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { buildFirmware } from "../sim/firmware"
import { createVm, deploy, type DevsVm } from "../sim/vm/devs-vm"
import { boardIds } from "../scripts/lib/firmware-build"
import { buildHilImage } from "./hil-image"
import { JdUsbDecoder, USB_BRIDGE_CMD, bridgeCommandOf, encodeFrame, encodeText } from "./jdusb"

const HERE = dirname(fileURLToPath(import.meta.url))
/** The stand-in's device id (a board's comes from its MAC). */
export const STANDIN_DEVICE_ID = "5747a2d1b0a4d001"
const CONTROL_CMD_RESET = 0x82
/** A reset takes effect this long after it arrived (the VM first handles what came before it). */
const RESET_AFTER_MS = 50

const USAGE = "usage: npm run standin [-- --board <id>] [--tcp] [--verbose]"

async function main(): Promise<number> {
    let values
    try {
        values = parseArgs({ options: { board: { type: "string" }, tcp: { type: "boolean" }, verbose: { type: "boolean" }, help: { type: "boolean" } }, strict: true }).values
    } catch (err: any) {
        console.error(`${err.message}\n${USAGE}`)
        return 2
    }
    if (values.help) {
        console.log(USAGE)
        return 0
    }
    let bytecode: Uint8Array
    if (values.board !== undefined) {
        if (!boardIds().includes(values.board)) {
            console.error(`standin: unknown board ${JSON.stringify(values.board)} (known: ${boardIds().join(", ")})`)
            return 2
        }
        const built = await buildHilImage(values.board)
        if (!built.ok) {
            console.error(built.output + `\nstandin: the HIL image of ${values.board} did not build`)
            return 1
        }
        bytecode = new Uint8Array(readFileSync(built.image))
    } else bytecode = await buildFirmware()

    if (values.tcp) return hubMode(bytecode, !!values.verbose)

    const relay = spawn("python3", [join(HERE, "pty-relay.py")], { stdio: ["pipe", "pipe", "inherit"] })
    const portPath = await new Promise<string>((resolve, reject) => {
        let head = Buffer.alloc(0)
        const onData = (d: Buffer) => {
            head = Buffer.concat([head, d])
            const nl = head.indexOf(10)
            if (nl < 0) return
            relay.stdout!.off("data", onData)
            const line = head.subarray(0, nl).toString()
            if (!line.startsWith("PTY ")) return reject(new Error(`pty helper said: ${line}`))
            resolve(line.slice(4))
            const rest = head.subarray(nl + 1)
            if (rest.length) queueMicrotask(() => fromHost(rest))
            relay.stdout!.on("data", fromHost)
        }
        relay.stdout!.on("data", onData)
        relay.on("error", err => reject(new Error(`cannot start python3 for the pseudo-terminal: ${err.message}`)))
        relay.on("exit", code => reject(new Error(`the pty helper exited (${code})`)))
    })

    let packets = false
    let logs = true
    let unplugged = false
    const toHost = (bytes: Uint8Array) => {
        if (!unplugged && relay.stdin!.writable) relay.stdin!.write(bytes)
    }
    let vm: DevsVm
    const log = (line: string) => {
        if (values.verbose) process.stderr.write(line + "\n")
        if (logs) toHost(encodeText(line + "\n"))
    }
    const boot = async () => {
        vm = await createVm({
            deviceId: STANDIN_DEVICE_ID,
            onLog: log,
            // A panic restarts the board.
            onPanic: code => {
                log(`standin: firmware panic ${code}: restarting`)
                setTimeout(() => void restart(), 0)
            },
        })
        vm.sendPacket = frame => {
            if (packets) toHost(encodeFrame(frame))
        }
        deploy(vm, bytecode)
    }
    // A restart runs the program again from flash (settings kept) in the same VM, as the
    // simulator's firmware_restart does; the VM's Jacdac stack keeps running (on a board it
    // restarts too: the bench pins the roles again either way).
    const restart = async () => {
        vm.devsStop()
        deploy(vm, bytecode)
    }
    const decoder = new JdUsbDecoder(frame => {
        const cmd = bridgeCommandOf(frame)
        if (cmd === USB_BRIDGE_CMD.enablePackets) packets = true
        else if (cmd === USB_BRIDGE_CMD.disablePackets) packets = false
        else if (cmd === USB_BRIDGE_CMD.enableLog) logs = true
        else if (cmd === USB_BRIDGE_CMD.disableLog) logs = false
        else if (cmd === undefined) {
            if (isResetForMe(frame)) {
                // After the frames before it (a settings write, say) have been handled, as a board would.
                log("standin: reset by the host")
                setTimeout(() => void restart(), RESET_AFTER_MS)
                return
            }
            // Asynchronously: the VM drops a frame handed to it while it is processing.
            const v = vm
            queueMicrotask(() => v.handlePacket(frame))
        }
    })
    function fromHost(chunk: Buffer) {
        if (!unplugged) decoder.push(chunk)
    }
    await boot()
    console.log(`port: ${portPath}`)
    console.log(`standin: ${values.board ? `board ${values.board} HIL image` : "src/main.ts"}, ${bytecode.length} bytes of bytecode, device ${STANDIN_DEVICE_ID}; Ctrl+C to stop`)

    process.on("SIGUSR2", () => {
        unplugged = !unplugged
        console.log(`standin: ${unplugged ? "unplugged" : "plugged in"}`)
    })
    const stop = () => {
        vm.devsStop()
        relay.stdin!.end()
        relay.kill()
        process.exit(0)
    }
    process.on("SIGINT", stop)
    process.on("SIGTERM", stop)
    await new Promise(() => {})
    return 0
}

/** The firmware VM on a devtools-style hub: every frame goes to every other member. */
async function hubMode(bytecode: Uint8Array, verbose: boolean): Promise<number> {
    const clients = new Set<Socket>()
    let vm: DevsVm
    const log = (line: string) => {
        if (verbose) process.stderr.write(line + "\n")
    }
    const boot = async () => {
        vm = await createVm({ deviceId: STANDIN_DEVICE_ID, onLog: log, onPanic: () => setTimeout(() => restart(), 0) })
        vm.sendPacket = frame => {
            const bytes = encodeHubFrame(frame)
            for (const c of clients) c.write(bytes)
        }
        deploy(vm, bytecode)
    }
    const restart = () => {
        vm.devsStop()
        deploy(vm, bytecode)
    }
    const server = createServer(sock => {
        clients.add(sock)
        const reader = new FrameReader()
        sock.on("data", chunk => {
            for (const frame of reader.push(chunk)) {
                const bytes = encodeHubFrame(frame)
                for (const c of clients) if (c !== sock) c.write(bytes)
                if (isResetForMe(frame)) {
                    // After the frames before it (a settings write, say) have been handled, as a board would.
                    log("standin: reset by a hub member")
                    setTimeout(restart, RESET_AFTER_MS)
                    continue
                }
                const v = vm
                queueMicrotask(() => v.handlePacket(frame))
            }
        })
        sock.on("close", () => clients.delete(sock))
        sock.on("error", () => clients.delete(sock))
    })
    await new Promise<void>(r => server.listen(0, "127.0.0.1", () => r()))
    await boot()
    const port = (server.address() as AddressInfo).port
    console.log(`hub: tcp://127.0.0.1:${port}`)
    console.log(`standin: firmware VM on a Jacdac hub, ${bytecode.length} bytes of bytecode, device ${STANDIN_DEVICE_ID}; Ctrl+C to stop`)
    const stop = () => {
        vm.devsStop()
        for (const c of clients) c.destroy()
        server.close()
        process.exit(0)
    }
    process.on("SIGINT", stop)
    process.on("SIGTERM", stop)
    await new Promise(() => {})
    return 0
}

/** A Control-service reset command addressed to the stand-in's device. */
function isResetForMe(frame: Uint8Array): boolean {
    if (!(frame[3] & 0x01)) return false // not a command frame
    const id = Buffer.from(frame.subarray(4, 12)).toString("hex")
    if (id !== STANDIN_DEVICE_ID) return false
    // packets start at 12: service_size, service_index, service_command (u16)
    for (let p = 12; p + 4 <= 12 + frame[2]; p += (4 + frame[p] + 3) & ~3)
        if (frame[p + 1] === 0 && (frame[p + 2] | (frame[p + 3] << 8)) === CONTROL_CMD_RESET) return true
    return false
}

process.exitCode = await main()
