// Role binding with two servers of one class on the bus: the firmware (the real bytecode in the
// in-process VM) first auto-binds to a decoy device that serves the same classes (a second pair of
// outlet meters and relays, there first), and the bench's pinning (auto-bind off, set_role by
// device id and service index) moves every role to the intended plant server and keeps it there.
// Behaviour, not only the role list: the outlet relays the firmware then drives are the plant's.
import { JDServerServiceProvider, JDServiceServer, SRV_RELAY, type JDService } from "jacdac-ts"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { bridge, createBus } from "../../sim/bus"
import { createClock, vmTimers } from "../../sim/clock"
import { buildFirmware } from "../../sim/firmware"
import { PlantServers, plantCodes } from "../../sim/servers"
import { createVm, deploy, type DevsVm } from "../../sim/vm/devs-vm"
import { SRV_ROLE_MANAGER, benchRoleTable, checkBindings, listRoles, pinRoles, type RoleBinding } from "../../hil/roles"

const { srvMeter: SRV_OUTLET_METER, meterReading: REG_METER_READING } = plantCodes()
const DECOY_ID = "de c0 de c0 de c0 00 01".replace(/ /g, "")
const PLANT_ID = "5151a4e0cafe0001"

describe("role pinning with two servers of one class", () => {
    const clock = createClock()
    const bus = createBus(clock)
    let vm: DevsVm
    const decoyMeters = [0, 1].map(() => new JDServiceServer(SRV_OUTLET_METER, { registerValues: [{ code: REG_METER_READING, values: [0, 0, 0] }] }))
    const decoyRelays = [0, 1].map(() => new JDServiceServer(SRV_RELAY, { intensityValues: [false] }))
    let servers: PlantServers
    let rm: JDService
    let before: RoleBinding[]
    let after: RoleBinding[]
    const decoyRelayOn: boolean[] = [false, false]
    const run = (ms: number) => clock.runUntil(clock.now + ms)

    beforeAll(async () => {
        const bytecode = await buildFirmware()
        // The decoy is on the bus first, the firmware boots and auto-binds.
        bus.addServiceProvider(new JDServerServiceProvider("decoy", [...decoyRelays, ...decoyMeters], { deviceId: DECOY_ID }))
        vm = await createVm({ timers: vmTimers(clock), deviceId: "c0ffee00c0ffee01" })
        bridge(bus, vm, clock)
        deploy(vm, bytecode)
        await run(3000)
        // Now the plant's servers (the bench's) join: auto-binding alone would leave the roles on the decoy.
        servers = new PlantServers(bus, 2)
        await run(2000)
        rm = bus.services({ serviceClass: SRV_ROLE_MANAGER })[0]
        before = await listRolesRunning(() => listRoles(bus, rm))
        const plan = benchRoleTable(servers, PLANT_ID)
        await pinRoles(rm, before, plan)
        await run(500)
        after = await listRolesRunning(() => listRoles(bus, rm))
        // The plant feeds fresh readings (SoC 80 %, 100 W per outlet) with the main switch on; the decoy reports nothing.
        await servers.setMainSwitch(true)
        for (let i = 0; i < 40; i++) {
            await servers.reportBattery(80, 360, 1, 25, 50, 50)
            for (let o = 0; o < 2; o++) await servers.reportMeter(o, 100, 1, 100)
            decoyRelays.forEach((r, o) => (decoyRelayOn[o] ||= !!r.register(0x01).values()[0]))
            await run(100)
        }
    }, 120_000)

    afterAll(() => {
        vm?.devsStop()
        void bus.stop()
        clock.reset()
    })

    /** listRoles needs the clock to move while it waits for the pipe. */
    async function listRolesRunning(f: () => Promise<RoleBinding[]>): Promise<RoleBinding[]> {
        const p = f()
        let done = false
        void p.finally(() => (done = true))
        for (let i = 0; i < 40 && !done; i++) await run(50)
        return p
    }

    it("auto-binding alone takes whichever server was there first (the ambiguity)", () => {
        const r = (name: string) => before.find(b => b.role === name)
        expect(r("outlet1Meter")?.deviceId).toBe(DECOY_ID)
        expect(r("outlet1Relay")?.deviceId).toBe(DECOY_ID)
        expect(checkBindings(before, benchRoleTable(servers, PLANT_ID), new Set([PLANT_ID, DECOY_ID])).map(p => p.role)).toEqual(
            expect.arrayContaining(["outlet1Meter", "outlet2Meter", "outlet1Relay", "outlet2Relay"]),
        )
    })

    it("after pinning every bench role is on the intended plant server (device id and service index)", () => {
        const plan = benchRoleTable(servers, PLANT_ID)
        expect(checkBindings(after, plan, new Set([PLANT_ID, DECOY_ID]))).toEqual([])
        for (const [role, t] of plan) {
            const b = after.find(x => x.role === role)
            expect(b, role).toBeDefined()
            expect([b.deviceId, b.serviceIndex]).toEqual([t.deviceId, t.serviceIndex])
        }
    })

    it("the firmware drives the plant's relays, never the decoy's", () => {
        expect(servers.relayCommand(0)).toBe(true)
        expect(servers.relayCommand(1)).toBe(true)
        expect(decoyRelayOn).toEqual([false, false])
    })
})
