// Firmware entry: a thin shell. It reads Jacdac roles, calls the pure core every tick and
// writes what the core says. No control decision is made here: limits, priorities, reasons,
// staleness, the e-stop's reach and the order of the inverter writes live in src/core
// (Controller and the modules it calls).
//
// Loops with periods from devs.json:
//  - protection tick (ticks.protectionMs, 20 ms): outlet protection core -> outlet relays and
//    the outlets' supply contactor (their second means);
//  - V2H tick (ticks.v2hMs, 100 ms): V2H supervisor -> inverter commands;
//  - supervisory tick (ticks.supervisoryMs, 250 ms): sounds the alarm, logs state changes.
// Actuators are written on change and when their role (re)binds.
// The e-stop input and every grid reading also run the V2H supervisor at once (they do not wait
// for the next tick).
import * as ds from "@devicescript/core"
import { GridMeter, OutletMeter, TractionBattery, V2HInverter } from "@devicescript/core"
import { DEVS } from "./config/devs.gen"
import { OutletReading, ProtectionInput } from "./core/outlets/io"
import { SUPPLY_CONTACTOR } from "./core/outlets/outlet-writes"
import { Controller } from "./core/controller"
import { V2hInput } from "./core/v2h/io"
import { startChargerControl } from "./control-server"
import { readSetting, writeSetting } from "@devicescript/settings"
import { PERSIST_KEY, PERSIST_LOG_KEY, joinFromFlash, splitForFlash } from "./core/persist"
import { HemsMqtt } from "./hems-mqtt"

// Roles: bound to ESP32 drivers on a board, to simulated servers on the host.
const meters: OutletMeter[] = []
const relays: ds.Relay[] = []
for (let i = 1; i <= DEVS.outlets.count; i++) {
    meters.push(new OutletMeter("outlet" + i + "Meter"))
    relays.push(new ds.Relay("outlet" + i + "Relay"))
}
// The outlets' second means: the outlet inverter's upstream supply contactor (rests open).
const outletSupply = new ds.Relay("outletSupply")
const mainSwitch = new ds.Switch("outletMainSwitch")
const alarm = new ds.Buzzer("alarm")
const battery = new TractionBattery("battery")
const inverter = new V2HInverter("inverter")
const gridMeter = new GridMeter("gridMeter")
const estop = new ds.Button("estop")

const controller = new Controller(DEVS)
const protection = controller.protection
const v2h = controller.v2h
const control = startChargerControl(controller)
// Loop health (src/core/common/loop-health.ts): every loop is timed around its run.
const loops = controller.loops
const LOOP_PROTECTION = loops.add("protection", DEVS.ticks.protectionMs)
const LOOP_V2H = loops.add("v2h", DEVS.ticks.v2hMs)
const LOOP_SUPERVISORY = loops.add("supervisory", DEVS.ticks.supervisoryMs)
// MQTT link to a home energy manager (off unless the mqttHost setting names a broker). It
// connects once the stored settings are back (below): a command cannot be overwritten by them.
const hems = new HemsMqtt(controller)

// Latest inputs, stamped with the time they arrived; the core judges staleness.
const NEVER_MS = -1e9
const input: ProtectionInput = {
    nowMs: 0,
    mainSwitchOn: false,
    mainSwitchBound: false,
    outlets: [],
    socPct: NaN,
    socAtMs: NEVER_MS,
    estop: false,
}
const vin: V2hInput = {
    nowMs: 0,
    estop: false,
    estopAvailable: false,
    socPct: NaN,
    batteryVoltageV: NaN,
    maxDischargeCurrentA: 0,
    maxChargeCurrentA: 0,
    batteryAtMs: NEVER_MS,
    inverterW: NaN,
    inverterTempC: NaN,
    contactorClosed: false,
    gridRelayClosed: false,
    transferOnIsland: false,
    inverterAtMs: NEVER_MS,
    gridW: NaN,
    gridVoltageV: NaN,
    gridFrequencyHz: NaN,
    gridAtMs: NEVER_MS,
    // Filled by the controller from the outlet core (tickV2h).
    outletsW: 0,
    outletOn: protection.status.outletOn,
    outletW: protection.status.outletW,
    outletWelded: [],
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
    const now = ds.millis()
    input.socPct = v[0]
    input.socAtMs = now
    vin.socPct = v[0]
    vin.batteryVoltageV = v[1]
    vin.maxDischargeCurrentA = v[4]
    vin.maxChargeCurrentA = v[5]
    vin.batteryAtMs = now
})
inverter.reading.subscribe(v => {
    vin.inverterW = v[0]
    vin.inverterTempC = v[2]
    vin.contactorClosed = !!v[3]
    vin.gridRelayClosed = !!v[4]
    vin.transferOnIsland = !!v[5]
    vin.inverterAtMs = ds.millis()
})
// Every grid reading is evaluated at once (not at the next V2H tick): with a meter that reports
// on a threshold crossing, detection adds no tick to a trip's clearing time.
gridMeter.reading.subscribe(async v => {
    vin.gridW = v[0]
    vin.gridVoltageV = v[1]
    vin.gridFrequencyHz = v[2]
    vin.gridAtMs = ds.millis()
    await runV2h()
})
mainSwitch.reading.subscribe(v => {
    input.mainSwitchOn = !!v
})
mainSwitch.binding().subscribe(bound => {
    input.mainSwitchBound = bound
})
// E-stop: its down event acts at once; up releases (the latch stays until cleared).
estop.down.subscribe(async () => {
    vin.estop = true
    await runV2h()
})
estop.up.subscribe(() => {
    vin.estop = false
})
// Without its e-stop input the V2H side does not run (the outlets keep their own main switch).
estop.binding().subscribe(bound => {
    vin.estopAvailable = !!bound
})

// What was last written is kept by the core with the order of the writes
// (controller.outletWrites, controller.inverterWrites); a role that (re)binds gets its state again.
const outletWrites = controller.outletWrites
const inverterWrites = controller.inverterWrites
const relayBound: boolean[] = relays.map(() => false)
relays.forEach((relay, i) => {
    relay.binding().subscribe(() => {
        outletWrites.forgetRelay(i)
    })
})
outletSupply.binding().subscribe(() => {
    outletWrites.forgetSupply()
})
inverter.binding().subscribe(() => {
    inverterWrites.forget()
})

// The writes the core planned for the last protection tick, in its order.
async function writeRelays() {
    for (let i = 0; i < relays.length; i++) relayBound[i] = relays[i].isBound
    const n = controller.planOutletWrites(relayBound, outletSupply.isBound)
    for (let k = 0; k < n; k++) {
        const w = outletWrites.writes[k]
        if (w.outlet === SUPPLY_CONTACTOR) await outletSupply.enabled.write(w.on)
        else {
            await relays[w.outlet].enabled.write(w.on)
            controller.outletRelayWritten(w.outlet, w.on, ds.millis())
        }
    }
}

// The writes the core planned at the last V2H tick, in its order.
async function writeInverter() {
    if (!inverter.isBound) {
        inverterWrites.forget()
        return
    }
    for (let k = 0; k < inverterWrites.count; k++) {
        const w = inverterWrites.writes[k]
        if (w.register === "contactor") await inverter.contactorCommand.write(w.on)
        else if (w.register === "power") {
            inverterWrites.powerWritten(ds.millis())
            await inverter.powerCommand.write(w.powerW)
        }
        else if (w.register === "island") await inverter.islandEnabled.write(w.on)
        else if (w.register === "grid_relay") await inverter.gridRelayCommand.write(w.on)
        else if (w.register === "transfer") await inverter.transferCommand.write(w.on)
        else await inverter.ceaseEnergize.write(w.on)
    }
    if (inverterWrites.keepaliveDue(ds.millis())) {
        inverterWrites.powerWritten(ds.millis())
        await inverter.powerCommand.write(inverterWrites.lastPowerW())
    }
}

// One V2H evaluation at a time: the e-stop handlers, the tick and the supervisory refresh can
// all ask for one; concurrent register writes to the same role only slow each other down
// (measured: ~190 ms per write instead of one bus round trip). A request arriving while a run
// is under way makes that run go once more.
let v2hBusy = false
// Set once the stored state is restored (below); until then nothing is evaluated or written.
let restored = false
let v2hAgain = false

async function runV2h() {
    if (!restored) return // the e-stop may fire before the stored state is back: the first tick acts on it
    if (v2hBusy) {
        v2hAgain = true
        return
    }
    v2hBusy = true
    try {
        v2hAgain = true
        while (v2hAgain) {
            v2hAgain = false
            await v2hOnce()
        }
    } finally {
        v2hBusy = false
    }
}

async function v2hOnce() {
    vin.nowMs = ds.millis()
    const st = controller.tickV2h(vin)
    await writeInverter()
    for (const ev of st.events) {
        console.log(`v2h: ${ev.kind} state=${ev.state} reason=${ev.reason}`)
        hems.v2hEvent(ev)
        if (ev.kind === "fault") await control.sendFault(ev.fault)
        else if (ev.kind === "state") await control.sendStateChanged(ev.state)
    }
}

// ---- Restart: everything above only binds roles and sets inputs; no output has been written yet.
// Settings, latched trips, the latched fault, the fault log and the energy counters come back
// from flash before the first tick, so a restart (also after a panic) needs the same resets as
// before. A bad stored value is reported (command_rejected) and replaced by its default.
let stored: any = undefined
try {
    stored = await readSetting(PERSIST_KEY, undefined)
    stored = joinFromFlash(stored, await readSetting(PERSIST_LOG_KEY, undefined))
} catch (e) {
    console.log("settings: cannot read the stored record")
}
for (const p of controller.boot(stored, ds.millis())) {
    console.log("settings: " + p)
    await control.reportProblem(p)
}
restored = true
hems.start()
console.log(`boot ${v2h.faults.bootCount}: soc floor ${protection.status.socFloorPct} %, reserve ${v2h.status.reservePct} %, latched ${protection.status.latched.join(",")} / ${v2h.latchedFault()}`)

async function persist() {
    const rec = controller.persistDue(ds.millis())
    if (!rec) return
    // Two settings, each within one Jacdac packet (persist.ts SETTING_MAX_BYTES).
    const parts = splitForFlash(rec)
    try {
        await writeSetting(PERSIST_LOG_KEY, parts.log)
        await writeSetting(PERSIST_KEY, parts.record)
    } catch (e) {
        console.log("settings: write failed")
    }
}

setInterval(async () => {
    input.nowMs = ds.millis()
    loops.start(LOOP_PROTECTION, input.nowMs)
    const st = controller.tickOutlets(input, vin.estop)
    await writeRelays()
    for (const ev of st.events) {
        console.log(`protection: ${ev.kind} outlet=${ev.outlet} reason=${ev.reason} r=${ev.loadRatio}`)
        hems.protectionEvent(ev)
        if (ev.kind === "trip") await control.sendTrip(ev.outlet, ev.reason)
    }
    loops.end(LOOP_PROTECTION, ds.millis())
}, DEVS.ticks.protectionMs)

// Its own timer: the protection tick never waits on the inverter's register writes.
setInterval(async () => {
    loops.start(LOOP_V2H, ds.millis())
    await runV2h()
    loops.end(LOOP_V2H, ds.millis())
}, DEVS.ticks.v2hMs)

let lastReasons = ""
setInterval(async () => {
    loops.start(LOOP_SUPERVISORY, ds.millis())
    await persist()
    const st = protection.status
    if (controller.alarmOn() && alarm.isBound)
        await alarm.playNote(DEVS.alarm.toneHz, DEVS.alarm.volume, DEVS.ticks.supervisoryMs / 2)
    const reasons = st.reason.join(",") + " " + st.alarmReason
    if (reasons !== lastReasons) {
        lastReasons = reasons
        console.log(`outlets: ${reasons} thermal=${st.thermalLevel} soc floor=${st.socFloorPct}`)
    }
    loops.end(LOOP_SUPERVISORY, ds.millis())
}, DEVS.ticks.supervisoryMs)
