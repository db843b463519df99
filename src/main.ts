// Firmware entry: a thin shell. It reads Jacdac roles, calls the pure core every tick and
// writes the actuators. No control decision is made here: limits, priorities and reasons
// live in src/core (see README "How the parts fit").
//
// Loops with periods from devs.json:
//  - protection tick (ticks.protectionMs, 20 ms): outlet protection core -> outlet relays;
//    every ticks.v2hMs (100 ms) inside it: V2H supervisor -> inverter commands;
//  - supervisory tick (ticks.supervisoryMs, 250 ms): re-asserts actuators (a relay, inverter or
//    buzzer server that restarted gets its state again), sounds the alarm, logs state changes.
// The e-stop input also runs the V2H supervisor at once (it does not wait for the next tick).
import * as ds from "@devicescript/core"
import { GridMeter, OutletMeter, TractionBattery, V2HInverter } from "@devicescript/core"
import { DEVS } from "./config/devs.gen"
import { OutletReading, ProtectionInput } from "./core/outlet-protection"
import { Controller } from "./core/controller"
import { V2hInput } from "./core/v2h-supervisor"
import { startChargerControl } from "./control-server"
import { startHemsMqtt } from "./hems-mqtt"

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
const inverter = new V2HInverter("inverter")
const gridMeter = new GridMeter("gridMeter")
const estop = new ds.Button("estop")

const controller = new Controller(DEVS)
const protection = controller.protection
const v2h = controller.v2h
const control = startChargerControl(controller)
// MQTT link to a home energy manager (off unless the mqttHost setting names a broker).
const hems = startHemsMqtt(controller)

// Latest inputs, stamped with the time they arrived; the core judges staleness.
const NEVER_MS = -1e9
const input: ProtectionInput = {
    nowMs: 0,
    mainSwitchOn: false,
    outlets: [],
    socPct: NaN,
    socAtMs: NEVER_MS,
    estop: false,
}
const vin: V2hInput = {
    nowMs: 0,
    estop: false,
    socPct: NaN,
    batteryVoltageV: NaN,
    maxDischargeCurrentA: 0,
    maxChargeCurrentA: 0,
    batteryAtMs: NEVER_MS,
    inverterW: NaN,
    inverterTempC: NaN,
    contactorClosed: false,
    gridRelayClosed: false,
    inverterAtMs: NEVER_MS,
    gridW: NaN,
    gridVoltageV: NaN,
    gridFrequencyHz: NaN,
    gridAtMs: NEVER_MS,
    outletsW: 0,
    outletOn: protection.status.outletOn,
    outletW: [],
}
meters.forEach((meter, i) => {
    const rd: OutletReading = { powerW: NaN, currentA: NaN, atMs: NEVER_MS }
    input.outlets.push(rd)
    vin.outletW.push(NaN)
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
    vin.inverterAtMs = ds.millis()
})
gridMeter.reading.subscribe(v => {
    vin.gridW = v[0]
    vin.gridVoltageV = v[1]
    vin.gridFrequencyHz = v[2]
    vin.gridAtMs = ds.millis()
})
mainSwitch.reading.subscribe(v => {
    input.mainSwitchOn = !!v
})
mainSwitch.binding().subscribe(bound => {
    if (!bound) input.mainSwitchOn = false // a lost switch counts as OFF
})
// E-stop: the button's pressure reading (> 0.5 = pressed) keeps the state; its down event acts at once.
estop.reading.subscribe(v => {
    vin.estop = v > 0.5
})
estop.down.subscribe(async () => {
    vin.estop = true
    await runV2h()
})

// Actuator state as last written; null = unknown (write on next chance).
const written: boolean[] = relays.map(() => null)
let invPowerW: number = null
let invContactor: boolean = null
let invGridRelay: boolean = null
let invIsland: boolean = null

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

async function writeInverter(force: boolean) {
    if (!inverter.isBound) {
        invPowerW = invContactor = invGridRelay = invIsland = null
        return
    }
    const st = v2h.status
    const w = Math.round(st.commandW)
    // Power first: on the way down the power falls before any contact opens.
    if (force || invPowerW !== w) {
        invPowerW = w
        await inverter.powerCommand.write(w)
    }
    if (force || invIsland !== st.islandCmd) {
        invIsland = st.islandCmd
        await inverter.islandEnabled.write(st.islandCmd)
    }
    if (force || invContactor !== st.contactorCmd) {
        invContactor = st.contactorCmd
        await inverter.contactorCommand.write(st.contactorCmd)
    }
    if (force || invGridRelay !== st.gridRelayCmd) {
        invGridRelay = st.gridRelayCmd
        await inverter.gridRelayCommand.write(st.gridRelayCmd)
    }
}

async function runV2h() {
    vin.nowMs = ds.millis()
    vin.outletsW = protection.status.totalPowerW
    for (let i = 0; i < input.outlets.length; i++) {
        const rd = input.outlets[i]
        vin.outletW[i] = vin.nowMs - rd.atMs <= DEVS.outlets.meterTimeoutMs ? rd.powerW : NaN
    }
    const st = v2h.tick(vin)
    input.estop = vin.estop || st.fault === "estop"
    await writeInverter(false)
    for (const ev of st.events) {
        console.log(`v2h: ${ev.kind} state=${ev.state} reason=${ev.reason}`)
        hems.v2hEvent(ev)
        if (ev.kind === "fault") await control.sendFault(ev.fault)
        else if (ev.kind === "state") await control.sendStateChanged(ev.state)
    }
}

const V2H_EVERY = DEVS.ticks.v2hMs / DEVS.ticks.protectionMs
let tickCount = 0
setInterval(async () => {
    input.nowMs = ds.millis()
    input.estop = input.estop || vin.estop
    const st = protection.tick(input)
    await writeRelays(false)
    for (const ev of st.events) {
        console.log(`protection: ${ev.kind} outlet=${ev.outlet} reason=${ev.reason} r=${ev.loadRatio}`)
        hems.protectionEvent(ev)
        if (ev.kind === "trip") await control.sendTrip(ev.outlet, ev.reason)
    }
    if (++tickCount >= V2H_EVERY) {
        tickCount = 0
        await runV2h()
    }
}, DEVS.ticks.protectionMs)

let lastReasons = ""
setInterval(async () => {
    await writeRelays(true)
    await writeInverter(true)
    const st = protection.status
    if ((st.alarm || v2h.status.faultLatched) && alarm.isBound)
        await alarm.playNote(DEVS.alarm.toneHz, DEVS.alarm.volume, DEVS.ticks.supervisoryMs / 2)
    const reasons = st.reason.join(",") + " " + st.alarmReason
    if (reasons !== lastReasons) {
        lastReasons = reasons
        console.log(`outlets: ${reasons} thermal=${st.thermalLevel} soc floor=${st.socFloorPct}`)
    }
}, DEVS.ticks.supervisoryMs)
