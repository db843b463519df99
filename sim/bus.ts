// The Jacdac bus of a simulation: a jacdac-ts JDBus on the virtual clock, bridged to the
// DeviceScript VM. Frames cross in both directions asynchronously (the VM drops a frame handed
// to it while it is processing), and the plant's servers live on a simulated device.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { FRAME_SEND, JDBus, loadServiceSpecifications } from "jacdac-ts"
import { ROOT } from "../scripts/lib/devs-config"
import { ClockScheduler, type Clock } from "./clock"
import type { DevsVm } from "./vm/devs-vm"

let specsLoaded = false

/** Registers the project's custom service specs (compiled by the DeviceScript build) with jacdac-ts. */
export function loadCustomServices() {
    if (specsLoaded) return
    const file = join(ROOT, ".devicescript", "services.json")
    let specs: jdspec.ServiceSpec[]
    try {
        specs = JSON.parse(readFileSync(file, "utf8"))
    } catch (err: any) {
        throw new Error(`cannot read ${file} (run \`npm run build\` first): ${err.message}`)
    }
    const r = loadServiceSpecifications(specs)
    if (r.errors?.length) throw new Error(`custom service specs: ${JSON.stringify(r.errors)}`)
    specsLoaded = true
}

export function createBus(clock: Clock): JDBus {
    loadCustomServices()
    const bus = new JDBus([], { disableRoleManager: true, scheduler: new ClockScheduler(clock) } as any)
    // A frame sent on the bus continues in microtasks (jacdac-ts promise chains, the bridge).
    bus.on(FRAME_SEND, () => clock.noteAsyncWork())
    return bus
}

/** Connects the VM to the bus. Returns a function that disconnects them. */
export function bridge(bus: JDBus, vm: DevsVm, clock: Clock): () => void {
    let open = true
    vm.sendPacket = (frame: Uint8Array) => {
        const copy = frame.slice()
        clock.noteAsyncWork()
        queueMicrotask(() => {
            if (open) bus.processFrame(copy, "vm")
        })
    }
    const toVm = (frame: Uint8Array) => {
        const copy = frame.slice()
        queueMicrotask(() => {
            if (open) vm.handlePacket(copy)
        })
    }
    bus.on(FRAME_SEND, toVm)
    return () => {
        open = false
        bus.off(FRAME_SEND, toVm)
    }
}
