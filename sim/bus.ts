// The Jacdac bus of a simulation: a jacdac-ts JDBus on the virtual clock, bridged to the
// DeviceScript VM. Frames cross in both directions asynchronously (the VM drops a frame handed
// to it while it is processing), and the plant's servers live on a simulated device.
import { FRAME_SEND, JDBus } from "jacdac-ts"
import { ClockScheduler, type Clock } from "./clock"
import type { DevsVm } from "./vm/devs-vm"
import { loadProjectServices } from "./service-specs"

/** JD_FRAME_FLAG_COMMAND: the frame's packets are commands to the device named in it (else its reports). */
const FRAME_FLAG_COMMAND = 0x01

/**
 * A JDBus that does not feed the reports of its own servers (the plant's readings, announces,
 * acks) back into its own packet processing. jacdac-ts does that so that a dashboard on the same
 * bus sees local servers like remote ones; here nobody on the host reads them (the firmware gets
 * every frame through FRAME_SEND as before), and parsing them again, updating twins of the plant
 * device and scanning those twins' registers on every refresh was a visible share of the
 * simulator's time. Commands (the simulator's own requests to the firmware) and large frames
 * take jacdac-ts' path unchanged.
 */
class SimBus extends JDBus {
    private localIds: Uint8Array[] | undefined

    override sendFrameAsync(frame: Uint8Array & { _jacdac_timestamp?: number }): Promise<void> {
        if (frame[2] === 255 || frame[3] & FRAME_FLAG_COMMAND || !this.isLocalDevice(frame)) return super.sendFrameAsync(frame)
        return this.sendLocalReportFrameAsync(frame)
    }

    /** JDBus.sendFrameAsync without processFrame (the same emits, the same asynchronous steps). */
    private async sendLocalReportFrameAsync(frame: Uint8Array & { _jacdac_timestamp?: number }) {
        if (frame._jacdac_timestamp === undefined) frame._jacdac_timestamp = this.timestamp
        this.emit(FRAME_SEND, frame)
        const transports = (this as any)._transports as { sendPacketWhenConnectedAsync(f: Uint8Array): Promise<void> }[]
        await Promise.all(transports.map(t => t.sendPacketWhenConnectedAsync(frame)))
    }

    private isLocalDevice(frame: Uint8Array): boolean {
        if (!this.localIds) {
            const hex = [this.selfDeviceId, ...this.serviceProviders().map(p => p.deviceId)]
            this.localIds = hex.map(h => Uint8Array.from(h.match(/../g)!, b => parseInt(b, 16)))
        }
        // The device identifier is bytes 4..11 of the frame, in the order of its hex form.
        next: for (const id of this.localIds) {
            for (let i = 0; i < 8; i++) if (frame[4 + i] !== id[i]) continue next
            return true
        }
        return false
    }

    override addServiceProvider(provider: Parameters<JDBus["addServiceProvider"]>[0]) {
        this.localIds = undefined
        return super.addServiceProvider(provider)
    }

    override removeServiceProvider(provider: Parameters<JDBus["removeServiceProvider"]>[0]) {
        this.localIds = undefined
        super.removeServiceProvider(provider)
    }
}

export function createBus(clock: Clock): JDBus {
    loadProjectServices()
    const bus = new SimBus([], { disableRoleManager: true, scheduler: new ClockScheduler(clock) } as any)
    // A frame sent on the bus continues in microtasks (jacdac-ts promise chains, the bridge).
    bus.on(FRAME_SEND, () => clock.noteAsyncWork())
    return bus
}

/** Connects the VM to the bus. Returns a function that disconnects them. */
export function bridge(bus: JDBus, vm: DevsVm, clock?: Clock): () => void {
    let open = true
    // No copies: the VM hands over a fresh slice of its heap (em_send_frame), and copies what it
    // is given into its heap; jacdac-ts builds a new buffer for every frame it sends and never
    // writes to a frame's bytes afterwards.
    vm.sendPacket = (frame: Uint8Array) => {
        clock?.noteAsyncWork()
        queueMicrotask(() => {
            if (open) bus.processFrame(frame, "vm")
        })
    }
    const toVm = (frame: Uint8Array) => {
        queueMicrotask(() => {
            if (open) vm.handlePacket(frame)
        })
    }
    bus.on(FRAME_SEND, toVm)
    return () => {
        open = false
        bus.off(FRAME_SEND, toVm)
    }
}
