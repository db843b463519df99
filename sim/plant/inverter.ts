/**
 * Bidirectional V2H inverter (DC link to the vehicle battery, AC to the home).
 * AC power positive = discharge to the home. Follows its command with a first-order lag and a slew limit,
 * clamped to its rating. Delivers power only when the DC contactor is closed and either the grid relay is
 * closed on a live grid, or islanded supply is allowed (anti-islanding otherwise: output drops to 0 at once).
 * Islanded (grid relay open or grid down, island allowed) it is grid-forming: it supplies what the house
 * draws (islandDemandW), up to its power command, which then acts as a limit.
 */
import { RelayState, initialRelay, setRelayWelded, stepRelay } from "./relay"

export interface InverterParams {
    ratedPowerW: number
    timeConstantS: number
    rampWPerS: number
    dischargeEfficiency: number
    chargeEfficiency: number
    contactorDelayS: number
    gridRelayDelayS: number
    heatingCPerW: number
    thermalTimeConstantS: number
}

export const DEFAULT_INVERTER_PARAMS: InverterParams = {
    ratedPowerW: 6000, // typical 6 kW V2H unit (e.g. Nichicon EVPS class)
    timeConstantS: 0.5, // power control loop response
    rampWPerS: 3000, // slew limit: 0 -> 6 kW in 2 s
    dischargeEfficiency: 0.95, // DC -> AC: dcPowerW = acPowerW / 0.95
    chargeEfficiency: 0.95, // AC -> DC: dcPowerW = acPowerW * 0.95
    contactorDelayS: 0.05, // DC contactor operate/release ~50 ms
    gridRelayDelayS: 0.02, // grid interconnection relay ~20 ms
    heatingCPerW: 40 / 6000, // steady rise above ambient: 40 C at 6 kW (25 C ambient -> 65 C)
    thermalTimeConstantS: 600, // heatsink: 63 % of the rise in 10 min, ~95 % in 30 min
}

export interface InverterState {
    acPowerW: number // positive = discharge to the home
    dcPowerW: number // positive = drawn from the battery
    contactor: RelayState
    gridRelay: RelayState
    contactorClosed: boolean // feedback
    gridRelayClosed: boolean // feedback
    tempC: number
}

export interface InverterInputs {
    powerCmdW: number // positive = discharge
    contactorCmd: boolean
    gridRelayCmd: boolean
    islandAllowed: boolean // grid-forming supply of the home without the grid
    gridUp: boolean
    ambientC: number
    dischargeAllowed?: boolean // false when the vehicle allows no discharge current (default true)
    chargeAllowed?: boolean // false when the vehicle allows no charge current (default true)
    islandDemandW?: number // what the islanded house draws (house - PV), default 0
}

export function dcPowerForAcW(params: InverterParams, acPowerW: number): number {
    return acPowerW >= 0 ? acPowerW / params.dischargeEfficiency : acPowerW * params.chargeEfficiency
}

function clamp(x: number, lo: number, hi: number): number {
    return Math.min(hi, Math.max(lo, x))
}

export function initialInverter(params: InverterParams, tempC: number): InverterState {
    const contactor = initialRelay(false)
    const gridRelay = initialRelay(false)
    return { acPowerW: 0, dcPowerW: 0, contactor, gridRelay, contactorClosed: false, gridRelayClosed: false, tempC }
}

export function stepInverter(params: InverterParams, state: InverterState, dtS: number, inputs: InverterInputs): InverterState {
    const contactor = stepRelay(params.contactorDelayS, state.contactor, dtS, inputs.contactorCmd).relay
    const gridRelay = stepRelay(params.gridRelayDelayS, state.gridRelay, dtS, inputs.gridRelayCmd).relay
    const gridTied = gridRelay.closed && inputs.gridUp
    const enabled = contactor.closed && (gridTied || inputs.islandAllowed)

    const loW = inputs.chargeAllowed === false ? 0 : -params.ratedPowerW
    const hiW = inputs.dischargeAllowed === false ? 0 : params.ratedPowerW
    let acPowerW = 0
    if (enabled) {
        const targetW = gridTied
            ? clamp(inputs.powerCmdW, loW, hiW)
            : clamp(Math.min(inputs.islandDemandW ?? 0, inputs.powerCmdW), 0, hiW)
        const lagStepW = (targetW - state.acPowerW) * (1 - Math.exp(-dtS / params.timeConstantS))
        const maxStepW = params.rampWPerS * dtS
        acPowerW = clamp(state.acPowerW + clamp(lagStepW, -maxStepW, maxStepW), loW, hiW)
    }

    // First-order toward ambient + k |P|, exact for inputs held over the step.
    const steadyC = inputs.ambientC + params.heatingCPerW * Math.abs(acPowerW)
    const tempC = steadyC + (state.tempC - steadyC) * Math.exp(-dtS / params.thermalTimeConstantS)

    return {
        acPowerW,
        dcPowerW: dcPowerForAcW(params, acPowerW),
        contactor,
        gridRelay,
        contactorClosed: contactor.closed,
        gridRelayClosed: gridRelay.closed,
        tempC,
    }
}

export function setContactorWelded(state: InverterState, welded: boolean): InverterState {
    const contactor = setRelayWelded(state.contactor, welded).relay
    return { ...state, contactor, contactorClosed: contactor.closed }
}

export function setGridRelayWelded(state: InverterState, welded: boolean): InverterState {
    const gridRelay = setRelayWelded(state.gridRelay, welded).relay
    return { ...state, gridRelay, gridRelayClosed: gridRelay.closed }
}
