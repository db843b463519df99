// The power-stage contract's command watchdog as the simulator's and the bench's inverter serve
// it (docs/power-stage.md): silence from the controller longer than powerStage.commandTimeoutMs
// makes the inverter cease to energise (0 W, DC contactor open); it never re-energises by itself.
import { Packet, jdpack } from "jacdac-ts"
import { afterAll, describe, expect, it } from "vitest"
import { createBus } from "../../sim/bus"
import { createClock } from "../../sim/clock"
import { PlantServers } from "../../sim/servers"
import { DEVS } from "../../src/config/devs.gen"

const TIMEOUT_MS = DEVS.powerStage.commandTimeoutMs

describe("power-stage command watchdog", () => {
    const clock = createClock()
    const bus = createBus(clock)
    const servers = new PlantServers(bus, 2)
    afterAll(() => {
        void bus.stop()
        clock.reset()
    })
    const write = async (reg: number, fmt: string, v: number) => servers.inverter.handlePacket(Packet.from(0x2000 | reg, jdpack(fmt, [v])))

    it("is not armed before the controller's first command", async () => {
        await clock.runUntil(10_000)
        expect(servers.checkWatchdog(bus.timestamp, TIMEOUT_MS)).toBe(false)
    })

    it("keepalives keep it fed; silence past the timeout drops power and the contactor once", async () => {
        await write(0x81, "u8", 1) // contactor closed
        await write(0x80, "i32", 3000)
        for (let t = 0; t < 5000; t += DEVS.powerStage.keepaliveMs) {
            await clock.runUntil(clock.now + DEVS.powerStage.keepaliveMs)
            expect(servers.checkWatchdog(bus.timestamp, TIMEOUT_MS)).toBe(false)
            await write(0x80, "i32", 3000) // the firmware's keepalive: unchanged value
        }
        expect(servers.inverterCommand()).toMatchObject({ powerW: 3000, contactor: true })
        await clock.runUntil(clock.now + TIMEOUT_MS - 10)
        expect(servers.checkWatchdog(bus.timestamp, TIMEOUT_MS)).toBe(false)
        await clock.runUntil(clock.now + 20)
        expect(servers.checkWatchdog(bus.timestamp, TIMEOUT_MS)).toBe(true)
        expect(servers.inverterCommand()).toMatchObject({ powerW: 0, contactor: false })
        await clock.runUntil(clock.now + 5000)
        expect(servers.checkWatchdog(bus.timestamp, TIMEOUT_MS)).toBe(false) // trips once
    })

    it("a returning controller's power keepalive alone does not close the contactor again", async () => {
        await write(0x80, "i32", 3000)
        expect(servers.checkWatchdog(bus.timestamp, TIMEOUT_MS)).toBe(false)
        expect(servers.inverterCommand()).toMatchObject({ powerW: 3000, contactor: false })
    })
})
