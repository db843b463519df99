// Device settings for a simulated charger: a flash image holding them, made by a throw-away VM.
//
// The DeviceScript VM hosts its own Settings service (flash-backed, the one @devicescript/settings
// talks to). We start a VM without a program on a private bus, write each key through that
// service's `set` command, wait for the flash to be saved, and keep the flash image. The
// simulation's VM then loads that image (SimOptions.flash), so the firmware finds the settings at
// boot as it would on a provisioned device, without a delay in the scenario's virtual time.
import { JDBus, SRV_SETTINGS, SettingsCmd, jdpack, type JDService } from "jacdac-ts"
import { bridge } from "../bus"
import { createVm } from "./devs-vm"

const POLL_MS = 20
const TIMEOUT_MS = 10_000

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

/** A flash image with `settings` (key -> JSON value) stored, for a VM with this device id. */
export async function settingsFlash(settings: Record<string, unknown>, deviceId: string): Promise<Uint8Array> {
    let flash = new Uint8Array(0)
    let saves = 0
    const vm = await createVm({
        deviceId,
        flashLoad: () => flash,
        flashSave: buf => {
            flash = buf.slice()
            saves++
        },
    })
    const bus = new JDBus([], { disableRoleManager: true } as any)
    const unlink = bridge(bus, vm)
    bus.start()
    vm.devsStart()
    try {
        const t0 = Date.now()
        let service: JDService | undefined
        while (!(service = bus.services({ serviceClass: SRV_SETTINGS })[0])) {
            if (Date.now() - t0 > TIMEOUT_MS) throw new Error("the VM's settings service did not appear")
            await sleep(POLL_MS)
        }
        for (const [key, value] of Object.entries(settings)) {
            if (key.length === 0 || key.length > 13) throw new Error(`setting key ${JSON.stringify(key)}: must be 1..13 characters`)
            const before = saves
            await service.sendCmdAsync(SettingsCmd.Set, jdpack("z b", [key, new TextEncoder().encode(JSON.stringify(value))]), true)
            while (saves === before) {
                if (Date.now() - t0 > TIMEOUT_MS) throw new Error(`setting ${key} was not saved to flash`)
                await sleep(POLL_MS)
            }
        }
        return flash
    } finally {
        vm.devsStop()
        unlink()
        await bus.stop()
    }
}
