// A charger status document as the firmware publishes it (src/core/controller.ts statusJson),
// for the gateway tests. Built from the real Controller so the fields cannot drift.
import { DEVS } from "../../src/config/devs.gen"
import { Controller } from "../../src/core/controller"
import { defaultPersisted } from "../../src/core/persist"

export function chargerStatus(over: Record<string, unknown> = {}): any {
    const c = new Controller(DEVS)
    // Energy counters as a restart restores them.
    c.boot({ ...defaultPersisted(DEVS), wh: [12345.4, 678.9, 0] }, 0)
    c.v2h.tick({
        nowMs: 100,
        estop: false,
        socPct: 64.96,
        batteryVoltageV: 360,
        maxDischargeCurrentA: 100,
        maxChargeCurrentA: 80,
        batteryAtMs: 100,
        inverterW: -1500.4,
        inverterTempC: 30,
        contactorClosed: false,
        gridRelayClosed: true,
        inverterAtMs: 100,
        gridW: 300,
        gridVoltageV: 100,
        gridFrequencyHz: 60,
        gridAtMs: 100,
        outletsW: 0,
        outletOn: [false, false],
        outletW: [0, 0],
        outletWelded: [false, false],
    })
    return { ...c.statusJson(100), ...over }
}
