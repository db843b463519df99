// Loads the DeviceScript WASM VM in this Node process.
//
// @devicescript/vm is not published on npm; the pinned @devicescript/cli bundles the emscripten
// factory (with the wasm inlined) as the module "runtime/devicescript-vm/built/devicescript-vm.js"
// inside built/devicescript-cli.cjs, whose own exports are only the CLI. We cut that one module
// out of the bundle text and evaluate it. The CLI version is pinned exactly in package.json, and
// the loader fails loudly if the bundle no longer has the expected shape.
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { DEVS_CLI } from "../../scripts/lib/devs-cli"
import { installHeapMonitor, type HeapMonitor } from "./vm-monitor"
import { installSocketModel, type SocketModel } from "./socket-model"

const MODULE_KEY = '"runtime/devicescript-vm/built/devicescript-vm.js"(exports, module2) {'

/** The part of the emscripten module this project uses. */
export interface DevsVm {
    devsSetDeviceId(id: string): void
    devsGcStress(on: boolean): void
    devsStart(): void
    devsStop(): void
    devsIsRunning(): boolean
    /** 0 when the bytecode was accepted. */
    devsDeploy(bytecode: Uint8Array): number
    /** VM -> bus: set this to receive every Jacdac frame the VM sends. */
    sendPacket: (frame: Uint8Array) => void
    /** bus -> VM. Drops the frame if called while the VM is processing: call it asynchronously. */
    handlePacket(frame: Uint8Array): void
    flashLoad: (() => Uint8Array) | null
    flashSave: ((buf: Uint8Array) => void) | null
    panicHandler: (code: number) => void
    dmesg: (line: string) => void
    log: (...args: unknown[]) => void
    error: (...args: unknown[]) => void
    /** Closes the VM's one TCP/TLS socket (MQTT, fetch), if open. Returns 0, or -10 when none was open. */
    sockClose(): number
    /** One VM scheduler step (the VM calls it itself from setTimeout). */
    _jd_em_process(): number
    /** The program's GC heap as read from the VM's memory (vm-monitor.ts). */
    heap: HeapMonitor
}

type Factory = (moduleArg?: object) => Promise<DevsVm>

/**
 * The time functions the VM uses (it looks them up when it runs). Passing a virtual clock's
 * functions here runs the VM in virtual time without touching Node's globals.
 */
export interface VmTimers {
    setTimeout: (...a: any[]) => any
    clearTimeout: (h: any) => void
    setInterval: (...a: any[]) => any
    clearInterval: (h: any) => void
    setImmediate: (...a: any[]) => any
    Date: { now(): number }
}

const REAL_TIMERS: VmTimers = { setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, Date }
let moduleFn: ((...args: unknown[]) => void) | undefined

/** Evaluates the VM module afresh with the given time functions and returns its factory. */
function loadFactory(timers: VmTimers): Factory {
    const fn = moduleFn ?? (moduleFn = compileModule())
    const mod = { exports: {} as any }
    fn(mod.exports, mod, cachedRequire(), DEVS_CLI, DEVS_CLI, ...TIMER_NAMES.map(n => timers[n]))
    const f = mod.exports as Factory
    if (typeof f !== "function") throw new Error("the DeviceScript VM module did not export its factory")
    return f
}

/**
 * The VM module's `require`, memoised: the VM asks for `require("tls")` on every scheduler step
 * (to learn whether sockets are available), and Node's require costs a few microseconds a call.
 */
function cachedRequire(): (id: string) => unknown {
    const req = createRequire(DEVS_CLI)
    const cache = new Map<string, unknown>()
    return (id: string) => {
        if (!cache.has(id)) cache.set(id, req(id))
        return cache.get(id)
    }
}

const TIMER_NAMES = ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "setImmediate", "Date"] as const

function compileModule(): (...args: unknown[]) => void {
    const text = readFileSync(DEVS_CLI, "utf8")
    const start = text.indexOf(MODULE_KEY)
    const end = start < 0 ? -1 : text.indexOf("\n});\n", start)
    if (start < 0 || end < 0)
        throw new Error(`cannot find the DeviceScript VM inside ${DEVS_CLI}: is @devicescript/cli still the pinned 2.16.4?`)
    const body = text.slice(start + MODULE_KEY.length, text.lastIndexOf("}", end))
    return new Function("exports", "module2", "require", "__filename", "__dirname", ...TIMER_NAMES, body) as (
        ...args: unknown[]
    ) => void
}

export interface VmOptions {
    deviceId?: string
    /** Collect a GC on every allocation (what `devicescript run --test` does): finds leaks, slow. */
    gcStress?: boolean
    /** Called with every line the program prints (console.log) and VM messages. */
    onLog?: (line: string) => void
    onPanic?: (code: number) => void
    /** Time functions for the VM (default: Node's real ones). */
    timers?: VmTimers
    /** Flash storage (settings, program). The VM reads it when it is initialised, so it is set here. Default: none. */
    flashLoad?: () => Uint8Array
    flashSave?: (buf: Uint8Array) => void
    /** How received socket data reaches the VM (socket-model.ts; default: like an ESP32's lwIP). */
    socket?: SocketModel
}

/** Creates a VM instance (not started). Each call returns a fresh emscripten module. */
export async function createVm(opts: VmOptions = {}): Promise<DevsVm> {
    const vm = await loadFactory(opts.timers ?? REAL_TIMERS)({})
    const log = opts.onLog ?? (() => {})
    vm.dmesg = (line: string) => log(line)
    vm.log = (...a: unknown[]) => log(a.join(" "))
    vm.error = (...a: unknown[]) => log("error: " + a.join(" "))
    vm.panicHandler = (code: number) => opts.onPanic?.(code)
    vm.sendPacket = () => {}
    vm.flashLoad = opts.flashLoad ?? null
    vm.flashSave = opts.flashSave ?? null
    const timers = opts.timers ?? REAL_TIMERS
    installSocketModel(vm, opts.socket, () => timers.Date.now())
    vm.heap = installHeapMonitor(vm)
    vm.devsGcStress(!!opts.gcStress)
    vm.devsSetDeviceId(opts.deviceId ?? "0123456789abcdef")
    return vm
}

/** Starts the VM and deploys compiled bytecode (.devs). Throws if the VM rejects it. */
export function deploy(vm: DevsVm, bytecode: Uint8Array) {
    vm.devsStart()
    const rc = vm.devsDeploy(bytecode)
    if (rc !== 0) throw new Error(`the DeviceScript VM rejected the bytecode (code ${rc})`)
}
