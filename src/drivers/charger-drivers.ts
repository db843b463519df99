// Starts the measurement-chip drivers of a charger board: the ADE7953 serving one OutletMeter per
// outlet (roles outlet1Meter, outlet2Meter), the INA228 serving the DC link as DcVoltageMeasurement
// (dcLinkVoltage) and DcCurrentMeasurement (dcLinkCurrent), and the TMP102 serving Temperature
// (heatsinkTemp). Addresses, calibration words, scale factors and poll periods come from the board
// file's `$charger` section through the generated src/config/board-<id>.gen.ts, computed at build
// time by the *-regs modules' setup functions (scripts/gen-boards.ts). Shell code: the arithmetic
// is in the *-regs modules.
//
// A failed read reports nothing (see push-sensor.ts), so a dead chip shows as a stale reading;
// after any error the chip is initialised again at the next poll.
import * as ds from "@devicescript/core"
import { startServer } from "@devicescript/server"
import { Ade7953 } from "./ade7953-regs"
import { ChargerHardware } from "./charger-hardware"
import { DsI2C } from "./ds-i2c"
import { Ina228 } from "./ina228-regs"
import { PushSensorServer } from "./push-sensor"
import { Tmp102 } from "./tmp102-regs"

/** Runs `poll` every `periodMs` once `chip.init()` has succeeded; logs the first error of a burst. */
function runChip(name: string, chip: { init(): Promise<void> }, poll: () => Promise<void>, periodMs: number) {
    let ready = false
    let failing = false
    let busy = false
    setInterval(async () => {
        if (busy) return
        busy = true
        try {
            if (!ready) {
                await chip.init()
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

/** A started push-sensor server for `roleName`, reporting every `pollMs` (roles bind in start order). */
function serve<T>(spec: ds.ServiceSpec, pollMs: number, roleName: string): PushSensorServer<T> {
    const server = new PushSensorServer<T>(spec, pollMs)
    startServer(server, { roleName })
    return server
}

export function startChargerDrivers(hw: ChargerHardware) {
    const bus = new DsI2C()
    // Outlet meters first: roles bind to services in start order (see boards/README.md).
    const om = hw.outletMeter
    const meters = [
        serve<[number, number, number]>(ds.OutletMeter.spec, om.pollMs, "outlet1Meter"),
        serve<[number, number, number]>(ds.OutletMeter.spec, om.pollMs, "outlet2Meter"),
    ]
    const ade = new Ade7953(bus, om)
    runChip(
        "ADE7953",
        ade,
        async () => {
            const outlets = await ade.readOutlets()
            for (let i = 0; i < 2; i++) await meters[i].publish([outlets[i].powerW, outlets[i].currentA, outlets[i].voltageV])
        },
        om.pollMs,
    )

    const dc = hw.dcMonitor
    const dcVoltage = serve<number>(ds.DcVoltageMeasurement.spec, dc.pollMs, "dcLinkVoltage")
    const dcCurrent = serve<number>(ds.DcCurrentMeasurement.spec, dc.pollMs, "dcLinkCurrent")
    const ina = new Ina228(bus, dc)
    runChip(
        "INA228",
        ina,
        async () => {
            const r = await ina.readDc()
            await dcVoltage.publish(r.voltageV)
            await dcCurrent.publish(r.currentA)
        },
        dc.pollMs,
    )

    const t = hw.heatsinkTemp
    const temp = serve<number>(ds.Temperature.spec, t.pollMs, "heatsinkTemp")
    const tmp = new Tmp102(bus, t)
    runChip(
        "TMP102",
        tmp,
        async () => {
            await temp.publish(await tmp.readTempC())
        },
        t.pollMs,
    )
}
