// Starts the measurement-chip drivers of a charger board: the ADE7953 serving one OutletMeter per
// outlet (roles outlet1Meter, outlet2Meter), the INA228 serving the DC link as DcVoltageMeasurement
// (dcLinkVoltage) and DcCurrentMeasurement (dcLinkCurrent), and the TMP102 serving Temperature
// (heatsinkTemp). Addresses, calibration and poll periods come from the board file's `$charger`
// section through the generated src/config/boards.gen.ts. Shell code: the arithmetic is in the
// *-regs modules.
//
// A failed read reports nothing (see push-sensor.ts), so a dead chip shows as a stale reading;
// after any error the chip is initialised again at the next poll.
import * as ds from "@devicescript/core"
import { startServer } from "@devicescript/server"
import { Ade7953 } from "./ade7953-regs"
import { dsI2C } from "./ds-i2c"
import { Ina228 } from "./ina228-regs"
import { PushSensorServer } from "./push-sensor"
import { Tmp102 } from "./tmp102-regs"

export interface ChargerHardware {
    dcMonitor: { address: number; shuntOhms: number; maxCurrentA: number; busDividerRatio: number; pollMs: number }
    outletMeter: {
        address: number
        voltageDividerRatio: number
        pollMs: number
        outlet1: { ctTurns: number; burdenOhms: number }
        outlet2: { ctTurns: number; burdenOhms: number }
    }
    heatsinkTemp: { address: number; pollMs: number }
}

/** Runs `poll` every `periodMs` once `init` has succeeded; logs the first error of a burst. */
function runChip(name: string, init: () => Promise<void>, poll: () => Promise<void>, periodMs: number) {
    let ready = false
    let failing = false
    let busy = false
    setInterval(async () => {
        if (busy) return
        busy = true
        try {
            if (!ready) {
                await init()
                ready = true
                console.log(name + ": ready")
            }
            await poll()
            failing = false
        } catch (e) {
            if (!failing) console.log(name + ": " + (e as Error).message)
            failing = true
            ready = false // re-initialise: the chip may have reset and lost its configuration
        }
        busy = false
    }, periodMs)
}

export function startChargerDrivers(hw: ChargerHardware) {
    // Outlet meters first: roles bind to services in start order (see boards/README.md).
    const om = hw.outletMeter
    const meterServers = [
        new PushSensorServer<[number, number, number]>(ds.OutletMeter.spec, om.pollMs),
        new PushSensorServer<[number, number, number]>(ds.OutletMeter.spec, om.pollMs),
    ]
    startServer(meterServers[0], { roleName: "outlet1Meter" })
    startServer(meterServers[1], { roleName: "outlet2Meter" })
    const ade = new Ade7953(dsI2C, { address: om.address, voltageDividerRatio: om.voltageDividerRatio, channels: [om.outlet1, om.outlet2] })
    runChip(
        "ADE7953",
        async () => {
            await ade.init()
        },
        async () => {
            const outlets = await ade.readOutlets()
            for (let i = 0; i < 2; i++) await meterServers[i].publish([outlets[i].powerW, outlets[i].currentA, outlets[i].voltageV])
        },
        om.pollMs,
    )

    const dc = hw.dcMonitor
    const dcVoltage = new PushSensorServer<number>(ds.DcVoltageMeasurement.spec, dc.pollMs)
    const dcCurrent = new PushSensorServer<number>(ds.DcCurrentMeasurement.spec, dc.pollMs)
    startServer(dcVoltage, { roleName: "dcLinkVoltage" })
    startServer(dcCurrent, { roleName: "dcLinkCurrent" })
    const ina = new Ina228(dsI2C, dc)
    runChip(
        "INA228",
        async () => {
            await ina.init()
        },
        async () => {
            const r = await ina.readDc()
            await dcVoltage.publish(r.voltageV)
            await dcCurrent.publish(r.currentA)
        },
        dc.pollMs,
    )

    const t = hw.heatsinkTemp
    const temp = new PushSensorServer<number>(ds.Temperature.spec, t.pollMs)
    startServer(temp, { roleName: "heatsinkTemp" })
    const tmp = new Tmp102(dsI2C, t.address)
    runChip(
        "TMP102",
        async () => {
            await tmp.init()
        },
        async () => {
            await temp.publish(await tmp.readTempC())
        },
        t.pollMs,
    )
}
