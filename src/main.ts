// Firmware entry: a thin shell. It reads Jacdac roles, calls the pure core every tick and
// writes the actuators. No control decision is made here: limits, priorities and reasons
// live in src/core (see README "How the parts fit").
//
// Two loops with periods from devs.json:
//  - protection tick (ticks.protectionMs, 20 ms): outlet protection core -> outlet relays;
//  - supervisory tick (ticks.supervisoryMs, 250 ms): re-asserts actuators (a relay or buzzer
//    server that restarted gets its state again), sounds the alarm, logs state changes.
import * as ds from "@devicescript/core"
import { OutletMeter, TractionBattery } from "@devicescript/core"
import { DEVS } from "./config/devs.gen"
import { OutletProtection, OutletReading, ProtectionInput } from "./core/outlet-protection"
import { startChargerControl } from "./control-server"

// Roles: bound to ESP32 drivers on a board, to simulated servers on the host.
const meters: OutletMeter[] = []
const relays: ds.Relay[] = []
for (let i = 1; i <= DEVS.outlets.count; i++) {
    meters.push(new OutletMeter("outlet" + i + "Meter"))
    relays.push(new ds.Relay("outlet" + i + "Relay"))
}
const mainSwitch = new ds.Switch("outletMainSwitch")
const alarm = new ds.Buzzer("alarm")
const battery = new TractionBattery("battery")

const protection = new OutletProtection(DEVS)
const control = startChargerControl(protection)

// Latest inputs, stamped with the time they arrived; the core judges staleness.
const NEVER_MS = -1e9
const input: ProtectionInput = {
    nowMs: 0,
    mainSwitchOn: false,
    outlets: [],
    socPct: NaN,
    socAtMs: NEVER_MS,
}
meters.forEach((meter, i) => {
    const rd: OutletReading = { powerW: NaN, currentA: NaN, atMs: NEVER_MS }
    input.outlets.push(rd)
    meter.reading.subscribe(v => {
        rd.powerW = v[0]
        rd.currentA = v[1]
        rd.atMs = ds.millis()
    })
})
battery.reading.subscribe(v => {
    input.socPct = v
    input.socAtMs = ds.millis()
})
mainSwitch.reading.subscribe(v => {
    input.mainSwitchOn = !!v
})
mainSwitch.binding().subscribe(bound => {
    if (!bound) input.mainSwitchOn = false // a lost switch counts as OFF
})

// Relay state as last written; null = unknown (write on next chance).
const written: boolean[] = relays.map(() => null)

async function writeRelays(force: boolean) {
    const on = protection.status.outletOn
    for (let i = 0; i < relays.length; i++) {
        if (!relays[i].isBound) {
            written[i] = null
            continue
        }
        if (force || written[i] !== on[i]) {
            written[i] = on[i]
            await relays[i].enabled.write(on[i])
        }
    }
}

setInterval(async () => {
    input.nowMs = ds.millis()
    const st = protection.tick(input)
    await writeRelays(false)
    for (const ev of st.events) {
        console.log(`protection: ${ev.kind} outlet=${ev.outlet} reason=${ev.reason} r=${ev.loadRatio}`)
        if (ev.kind === "trip") await control.sendTrip(ev.outlet, ev.reason)
    }
}, DEVS.ticks.protectionMs)

let lastReasons = ""
setInterval(async () => {
    await writeRelays(true)
    const st = protection.status
    if (st.alarm && alarm.isBound) await alarm.playNote(DEVS.alarm.toneHz, DEVS.alarm.volume, DEVS.ticks.supervisoryMs / 2)
    const reasons = st.reason.join(",") + " " + st.alarmReason
    if (reasons !== lastReasons) {
        lastReasons = reasons
        console.log(`outlets: ${reasons} thermal=${st.thermalLevel} soc floor=${st.socFloorPct}`)
    }
}, DEVS.ticks.supervisoryMs)
