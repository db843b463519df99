/**
 * Traction battery modelled on a 40 kWh Nissan LEAF (96s NMC): OCV(SoC) table, series resistance,
 * CHAdeMO-style current limits reported by the vehicle, first-order thermal model.
 * Sign convention: current and power positive = DISCHARGE.
 * SoC counts charge: capacityAh = capacityKWh * 1000 / nominalVoltageV, dSocPct = -currentA * dtS / 3600 / capacityAh * 100.
 */

export interface OcvPoint {
    socPct: number
    voltageV: number
}

export interface BatteryParams {
    capacityKWh: number
    nominalVoltageV: number
    ocvTable: readonly OcvPoint[]
    resistanceOhm: number
    maxDischargeCurrentA: number
    maxChargeCurrentA: number
    minSocPct: number
    maxSocPct: number
    heatCapacityJPerC: number
    thermalTimeConstantS: number
}

export const DEFAULT_BATTERY_PARAMS: BatteryParams = {
    capacityKWh: 40, // LEAF ZE1 40 kWh pack
    // Mean of ocvTable over 0..100 % (362.9 V), so that integrating OCV over the full SoC range gives capacityKWh.
    // Gives capacityAh = 110.2 Ah, close to the real 96s2p x 56.3 Ah = 112.6 Ah (Nissan quotes 350 V nominal).
    nominalVoltageV: 362.9,
    // Typical NMC cell OCV x 96 cells: 3.125 V (empty) .. 4.20 V (full) per cell.
    ocvTable: [
        { socPct: 0, voltageV: 300 },
        { socPct: 5, voltageV: 331 },
        { socPct: 10, voltageV: 341 },
        { socPct: 20, voltageV: 348 },
        { socPct: 40, voltageV: 355 },
        { socPct: 60, voltageV: 367 },
        { socPct: 80, voltageV: 382 },
        { socPct: 100, voltageV: 403 },
    ],
    resistanceOhm: 0.1, // pack DC resistance incl. busbars and contactors, order of magnitude for a 40 kWh pack
    maxDischargeCurrentA: 125, // CHAdeMO V2H discharge limit reported by the vehicle (example value)
    maxChargeCurrentA: 125, // CHAdeMO charge limit reported by the vehicle (example value)
    minSocPct: 5, // the vehicle reports 0 A discharge at or below this SoC (V2H floor)
    maxSocPct: 100, // the vehicle reports 0 A charge at or above this SoC
    heatCapacityJPerC: 270_000, // ~300 kg pack x ~0.9 kJ/(kg.K)
    thermalTimeConstantS: 10_800, // passive air-cooled pack: ~3 h to cool towards ambient (assumption)
}

export interface BatteryState {
    socPct: number
    tempC: number
    voltageV: number // terminal voltage = OCV - currentA * resistanceOhm
    currentA: number // positive = discharge
    powerW: number // terminal power actually delivered, positive = discharge
    requestedW: number // terminal power requested; differs from powerW when the request was clamped
    maxDischargeCurrentA: number // limit the vehicle reports at the current SoC
    maxChargeCurrentA: number // limit the vehicle reports at the current SoC
}

export interface BatteryInputs {
    requestedW: number // DC power at the terminals, positive = discharge
    ambientC: number
}

export function capacityAh(params: BatteryParams): number {
    return (params.capacityKWh * 1000) / params.nominalVoltageV
}

/** Open-circuit voltage by linear interpolation in ocvTable (clamped to the table's ends). */
export function ocvV(params: BatteryParams, socPct: number): number {
    const t = params.ocvTable
    if (socPct <= t[0].socPct) return t[0].voltageV
    for (let i = 1; i < t.length; i++) {
        if (socPct <= t[i].socPct) {
            const f = (socPct - t[i - 1].socPct) / (t[i].socPct - t[i - 1].socPct)
            return t[i - 1].voltageV + f * (t[i].voltageV - t[i - 1].voltageV)
        }
    }
    return t[t.length - 1].voltageV
}

/** The current limits the vehicle reports at a SoC. */
export function currentLimitsA(params: BatteryParams, socPct: number): { dischargeA: number; chargeA: number } {
    return {
        dischargeA: socPct <= params.minSocPct ? 0 : params.maxDischargeCurrentA,
        chargeA: socPct >= params.maxSocPct ? 0 : params.maxChargeCurrentA,
    }
}

/**
 * Solves P = (OCV - I R) I for the root of smaller magnitude (the one on the working side of the power curve).
 * Written as 2P / (OCV + sqrt(OCV^2 - 4RP)), which equals (OCV - sqrt(...)) / 2R and also holds for R = 0.
 * A request beyond the maximum power OCV^2 / 4R gets the current of that maximum, OCV / 2R.
 */
export function currentForPowerA(ocvVolts: number, resistanceOhm: number, powerW: number): number {
    const disc = ocvVolts * ocvVolts - 4 * resistanceOhm * powerW
    if (disc < 0) return ocvVolts / (2 * resistanceOhm)
    return (2 * powerW) / (ocvVolts + Math.sqrt(disc))
}

function clamp(x: number, lo: number, hi: number): number {
    return Math.min(hi, Math.max(lo, x))
}

export function initialBattery(params: BatteryParams, socPct: number, tempC: number): BatteryState {
    const soc = clamp(socPct, 0, 100)
    const limits = currentLimitsA(params, soc)
    return {
        socPct: soc,
        tempC,
        voltageV: ocvV(params, soc),
        currentA: 0,
        powerW: 0,
        requestedW: 0,
        maxDischargeCurrentA: limits.dischargeA,
        maxChargeCurrentA: limits.chargeA,
    }
}

export function stepBattery(params: BatteryParams, state: BatteryState, dtS: number, inputs: BatteryInputs): BatteryState {
    const ocv = ocvV(params, state.socPct)
    const limits = currentLimitsA(params, state.socPct)
    const currentA = clamp(currentForPowerA(ocv, params.resistanceOhm, inputs.requestedW), -limits.chargeA, limits.dischargeA) + 0 // + 0: no -0
    const voltageV = ocv - currentA * params.resistanceOhm

    const socPct = clamp(state.socPct - ((currentA * dtS) / 3600 / capacityAh(params)) * 100, 0, 100)

    // First-order thermal model, exact for inputs held over the step: C dT/dt = I^2 R - C (T - Tamb) / tau.
    const heatW = currentA * currentA * params.resistanceOhm
    const steadyC = inputs.ambientC + (heatW * params.thermalTimeConstantS) / params.heatCapacityJPerC
    const tempC = steadyC + (state.tempC - steadyC) * Math.exp(-dtS / params.thermalTimeConstantS)

    const next = currentLimitsA(params, socPct)
    return {
        socPct,
        tempC,
        voltageV,
        currentA,
        powerW: voltageV * currentA,
        requestedW: inputs.requestedW,
        maxDischargeCurrentA: next.dischargeA,
        maxChargeCurrentA: next.chargeA,
    }
}
