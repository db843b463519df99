/**
 * The home: house load, PV, and the utility grid (Japan single-phase 100 V).
 * Grid power positive = IMPORT: gridW = houseW - pvW - inverterAcW. The accessory outlets are fed from the
 * vehicle and are not on the house circuit. With the grid down or disconnected the house is served only by
 * PV + inverter: shortfall is unservedW, surplus is curtailedW.
 */

export interface SiteParams {
    nominalVoltageV: number
    nominalFrequencyHz: number
}

export const DEFAULT_SITE_PARAMS: SiteParams = {
    nominalVoltageV: 100, // Japan low-voltage supply, 100 V per leg
    nominalFrequencyHz: 60, // western Japan (Kansai, Chubu, Kyushu...) is 60 Hz; eastern Japan is 50 Hz
}

export interface SiteState {
    houseW: number
    pvW: number
    ambientC: number
    gridUp: boolean
    gridVoltageV: number // the grid's voltage when up
    gridFrequencyHz: number // the grid's frequency when up
    // Outputs, refreshed by stepSite:
    voltageV: number // measured at the grid side: gridVoltageV when up, else 0
    frequencyHz: number // gridFrequencyHz when up, else 0
    gridW: number // positive = import
    unservedW: number
    curtailedW: number
}

export interface SiteInputs {
    inverterAcW: number // positive = export from the vehicle to the home
    gridRelayClosed: boolean
}

export interface SiteInitial {
    houseW: number
    pvW: number
    gridUp: boolean
    ambientC: number
}

export function initialSite(params: SiteParams, initial: SiteInitial): SiteState {
    const state: SiteState = {
        ...initial,
        gridVoltageV: params.nominalVoltageV,
        gridFrequencyHz: params.nominalFrequencyHz,
        voltageV: 0,
        frequencyHz: 0,
        gridW: 0,
        unservedW: 0,
        curtailedW: 0,
    }
    return stepSite(params, state, 0, { inverterAcW: 0, gridRelayClosed: false })
}

export function stepSite(_params: SiteParams, state: SiteState, _dtS: number, inputs: SiteInputs): SiteState {
    const voltageV = state.gridUp ? state.gridVoltageV : 0
    const frequencyHz = state.gridUp ? state.gridFrequencyHz : 0
    const netW = state.houseW - state.pvW - inputs.inverterAcW
    if (state.gridUp && inputs.gridRelayClosed) return withOutputs(state, voltageV, frequencyHz, netW, 0, 0)
    return withOutputs(state, voltageV, frequencyHz, 0, Math.max(0, netW), Math.max(0, -netW))
}

/** A new state with these outputs (an explicit literal: `{ ...state }` every step was the plant's hot spot). */
function withOutputs(s: SiteState, voltageV: number, frequencyHz: number, gridW: number, unservedW: number, curtailedW: number): SiteState {
    return {
        houseW: s.houseW,
        pvW: s.pvW,
        ambientC: s.ambientC,
        gridUp: s.gridUp,
        gridVoltageV: s.gridVoltageV,
        gridFrequencyHz: s.gridFrequencyHz,
        voltageV,
        frequencyHz,
        gridW,
        unservedW,
        curtailedW,
    }
}
