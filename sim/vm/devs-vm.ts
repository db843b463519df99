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
    /** One VM scheduler step (the VM calls it itself from setTimeout). */
    _jd_em_process(): number
}

type Factory = (moduleArg?: object) => Promise<DevsVm>
let factory: Factory | undefined

function loadFactory(): Factory {
    if (factory) return factory
    const text = readFileSync(DEVS_CLI, "utf8")
    const start = text.indexOf(MODULE_KEY)
    const end = start < 0 ? -1 : text.indexOf("\n});\n", start)
    if (start < 0 || end < 0)
        throw new Error(`cannot find the DeviceScript VM inside ${DEVS_CLI}: is @devicescript/cli still the pinned 2.16.4?`)
    const body = text.slice(start + MODULE_KEY.length, text.lastIndexOf("}", end))
    const mod = { exports: {} as any }
    const req = createRequire(DEVS_CLI)
    new Function("exports", "module2", "require", "__filename", "__dirname", body)(mod.exports, mod, req, DEVS_CLI, DEVS_CLI)
    const f = mod.exports as Factory
    if (typeof f !== "function") throw new Error("the DeviceScript VM module did not export its factory")
    factory = f
    return f
}

export interface VmOptions {
    deviceId?: string
    /** Collect a GC on every allocation (what `devicescript run --test` does): finds leaks, slow. */
    gcStress?: boolean
    /** Called with every line the program prints (console.log) and VM messages. */
    onLog?: (line: string) => void
    onPanic?: (code: number) => void
}

/** Creates a VM instance (not started). Each call returns a fresh emscripten module. */
export async function createVm(opts: VmOptions = {}): Promise<DevsVm> {
    const vm = await loadFactory()({})
    const log = opts.onLog ?? (() => {})
    vm.dmesg = (line: string) => log(line)
    vm.log = (...a: unknown[]) => log(a.join(" "))
    vm.error = (...a: unknown[]) => log("error: " + a.join(" "))
    vm.panicHandler = (code: number) => opts.onPanic?.(code)
    vm.sendPacket = () => {}
    vm.flashLoad = null
    vm.flashSave = null
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
