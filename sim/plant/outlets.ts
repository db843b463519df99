/**
 * AC 100 V accessory outlets fed from the vehicle battery through an outlet inverter.
 * Each outlet has a relay (delay, welded fault) and a plugged-in appliance with steady load and optional inrush.
 * The appliance (re)starts - and its inrush plays again - when it is set, and whenever its relay closes.
 */
import { RelayState, TIME_EPS_S, initialRelay, setRelayWelded, stepRelay } from "./relay"

export interface OutletsParams {
    count: number
    nominalVoltageV: number
    relayDelayS: number
    inverterEfficiency: number
    defaultPowerFactor: number
}

export const DEFAULT_OUTLETS_PARAMS: OutletsParams = {
    count: 2, // two accessory outlets sharing the 1,500 W budget
    nominalVoltageV: 100, // Japan single-phase 100 V
    relayDelayS: 0.01, // typical small power relay operate/release time ~10 ms
    inverterEfficiency: 0.92, // outlet DC/AC inverter, small unit at part load
    defaultPowerFactor: 1.0, // resistive appliance unless told otherwise
}

export interface Appliance {
    loadW: number // steady draw; 0 = nothing running
    inrushW: number // draw during the first inrushS seconds after a start
    inrushS: number
    powerFactor: number
}

export interface ApplianceSpec {
    loadW: number
    inrushW?: number
    inrushS?: number
    powerFactor?: number
}

export interface OutletState {
    appliance: Appliance
    startS: number // time the appliance last started (its inrush clock)
    relay: RelayState
    demandW: number // what the appliance draws (average over the last step), whether or not the relay is closed
    deliveredW: number // demandW when the relay is closed and the supply is on, else 0
    currentA: number
    voltageV: number
    relayClosed: boolean // contact feedback
}

export interface OutletsState {
    tS: number
    supplyOn: boolean // the vehicle's DC supply to the outlet inverter, as of the last step
    outlets: OutletState[]
    deliveredW: number // sum over outlets
    dcDrawW: number // DC power drawn from the battery = deliveredW / inverterEfficiency
}

export interface OutletsInputs {
    relayCmd: readonly boolean[]
    supplyOn?: boolean // false when the vehicle has cut its DC supply (default true)
}

const NO_APPLIANCE: Appliance = { loadW: 0, inrushW: 0, inrushS: 0, powerFactor: 1 }

/**
 * The appliance's demand averaged over [fromS, toS] (exact energy when a step cuts through the inrush),
 * or its instantaneous demand at fromS when the interval is empty.
 */
export function demandOverW(appliance: Appliance, startS: number, fromS: number, toS: number): number {
    const endS = startS + appliance.inrushS
    const spanS = toS - fromS
    if (spanS <= TIME_EPS_S) return fromS >= startS - TIME_EPS_S && fromS < endS - TIME_EPS_S ? appliance.inrushW : appliance.loadW
    const overlapS = Math.min(toS, endS) - Math.max(fromS, startS)
    if (overlapS <= TIME_EPS_S) return appliance.loadW
    if (overlapS >= spanS - TIME_EPS_S) return appliance.inrushW
    return appliance.loadW + ((appliance.inrushW - appliance.loadW) * overlapS) / spanS
}

type OutletCore = Pick<OutletState, "appliance" | "startS" | "relay">

/** Outputs over the step [fromS, toS] just taken (an empty interval gives the values at fromS). */
function withOutputs(params: OutletsParams, o: OutletCore, fromS: number, toS: number, supplyOn: boolean): OutletState {
    const demandW = demandOverW(o.appliance, o.startS, fromS, toS)
    const live = o.relay.closed && supplyOn
    const deliveredW = live ? demandW : 0
    const voltageV = live ? params.nominalVoltageV : 0
    const currentA = live ? deliveredW / voltageV / o.appliance.powerFactor : 0
    // An explicit literal, not `{ ...o, ... }`: spreading objects of varying shapes here made this
    // the simulator's hottest function (and most of its garbage).
    return { appliance: o.appliance, startS: o.startS, relay: o.relay, demandW, deliveredW, currentA, voltageV, relayClosed: o.relay.closed }
}

function withTotals(params: OutletsParams, tS: number, supplyOn: boolean, outlets: OutletState[]): OutletsState {
    const deliveredW = outlets.reduce((sum, o) => sum + o.deliveredW, 0)
    return { tS, supplyOn, outlets, deliveredW, dcDrawW: deliveredW / params.inverterEfficiency }
}

export function initialOutlets(params: OutletsParams): OutletsState {
    const outlets: OutletState[] = []
    for (let i = 0; i < params.count; i++) {
        const appliance = { ...NO_APPLIANCE, powerFactor: params.defaultPowerFactor }
        outlets.push(withOutputs(params, { appliance, startS: 0, relay: initialRelay(false) }, 0, 0, true))
    }
    return withTotals(params, 0, true, outlets)
}

export function stepOutlets(params: OutletsParams, state: OutletsState, dtS: number, inputs: OutletsInputs): OutletsState {
    const tS = state.tS + dtS
    const supplyOn = inputs.supplyOn ?? true
    const outlets = state.outlets.map((o, i) => {
        const { relay, closedAfterS } = stepRelay(params.relayDelayS, o.relay, dtS, inputs.relayCmd[i] ?? false)
        const startS = closedAfterS === null ? o.startS : state.tS + closedAfterS
        return withOutputs(params, { appliance: o.appliance, startS, relay }, state.tS, tS, supplyOn)
    })
    return withTotals(params, tS, supplyOn, outlets)
}

/** Plugs in / changes the appliance on an outlet; it starts at nowS (inrush restarts). loadW 0 = load off. */
export function setAppliance(params: OutletsParams, state: OutletsState, outletIndex: number, spec: ApplianceSpec, nowS: number = state.tS): OutletsState {
    const appliance: Appliance = {
        loadW: spec.loadW,
        inrushW: spec.inrushW ?? spec.loadW,
        inrushS: spec.inrushS ?? 0,
        powerFactor: spec.powerFactor ?? params.defaultPowerFactor,
    }
    return replaceOutlet(params, state, outletIndex, (o) => ({ ...o, appliance, startS: nowS }))
}

/**
 * Sets or clears the welded fault of an outlet relay. Welding an open relay closes it, which restarts the appliance.
 * Outputs (relayClosed, deliveredW...) refresh on the next step.
 */
export function setOutletRelayWelded(state: OutletsState, outletIndex: number, welded: boolean): OutletsState {
    checkIndex(state, outletIndex)
    const outlets = state.outlets.map((o, i) => {
        if (i !== outletIndex) return o
        const r = setRelayWelded(o.relay, welded)
        return { ...o, relay: r.relay, startS: r.justClosed ? state.tS : o.startS }
    })
    return { ...state, outlets }
}

function checkIndex(state: OutletsState, outletIndex: number): void {
    if (!Number.isInteger(outletIndex) || outletIndex < 0 || outletIndex >= state.outlets.length) throw new RangeError(`no outlet ${outletIndex}`)
}

function replaceOutlet(params: OutletsParams, state: OutletsState, outletIndex: number, change: (o: OutletState) => OutletState): OutletsState {
    checkIndex(state, outletIndex)
    const outlets = state.outlets.map((o, i) => (i === outletIndex ? withOutputs(params, change(o), state.tS, state.tS, state.supplyOn) : o))
    return withTotals(params, state.tS, state.supplyOn, outlets)
}
