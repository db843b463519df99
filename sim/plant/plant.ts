/**
 * The whole plant: vehicle battery, V2H inverter, accessory outlets, and the site (house, PV, grid).
 * Battery DC power = outlets' DC draw + inverter DC power. Each step evaluates, in order: outlets and inverter
 * (using the vehicle's current limits from the previous step), then the battery, then the site balance.
 * Setters only change the plant's inputs or faults; derived outputs refresh on the next stepPlant.
 */
import { BatteryParams, BatteryState, DEFAULT_BATTERY_PARAMS, initialBattery, stepBattery } from "./battery"
import { DEFAULT_INVERTER_PARAMS, InverterParams, InverterState, initialInverter, setContactorWelded, setGridRelayWelded, stepInverter } from "./inverter"
import { DEFAULT_OUTLETS_PARAMS, OutletsParams, OutletsState, initialOutlets, setAppliance, setOutletRelayWelded, stepOutlets } from "./outlets"
import { DEFAULT_SITE_PARAMS, SiteParams, SiteState, initialSite, stepSite } from "./site"

export interface PlantParams {
    battery: BatteryParams
    inverter: InverterParams
    outlets: OutletsParams
    site: SiteParams
}

export const DEFAULT_PLANT_PARAMS: PlantParams = {
    battery: DEFAULT_BATTERY_PARAMS,
    inverter: DEFAULT_INVERTER_PARAMS,
    outlets: DEFAULT_OUTLETS_PARAMS,
    site: DEFAULT_SITE_PARAMS,
}

export interface PlantState {
    tS: number
    battery: BatteryState
    inverter: InverterState
    outlets: OutletsState
    site: SiteState
}

export interface PlantInitial {
    socPct: number
    houseW: number
    pvW: number
    gridUp: boolean
    tempC: number // ambient, and the starting temperature of battery and inverter
}

export interface PlantInputs {
    outletRelayCmd: boolean[]
    inverterCmdW: number // positive = discharge to the home
    contactorCmd: boolean
    gridRelayCmd: boolean
    islandCmd?: boolean // allow the inverter to supply the home without the grid (default false)
}

export type PlantFault = `outlet${number}_relay_welded` | "contactor_welded" | "grid_relay_welded"

export function initialPlant(params: PlantParams, initial: PlantInitial): PlantState {
    return {
        tS: 0,
        battery: initialBattery(params.battery, initial.socPct, initial.tempC),
        inverter: initialInverter(params.inverter, initial.tempC),
        outlets: initialOutlets(params.outlets),
        site: initialSite(params.site, { houseW: initial.houseW, pvW: initial.pvW, gridUp: initial.gridUp, ambientC: initial.tempC }),
    }
}

export function stepPlant(params: PlantParams, state: PlantState, dtS: number, inputs: PlantInputs): PlantState {
    const ambientC = state.site.ambientC
    const dischargeAllowed = state.battery.maxDischargeCurrentA > 0
    const chargeAllowed = state.battery.maxChargeCurrentA > 0
    const outlets = stepOutlets(params.outlets, state.outlets, dtS, { relayCmd: inputs.outletRelayCmd, supplyOn: dischargeAllowed })
    const inverter = stepInverter(params.inverter, state.inverter, dtS, {
        powerCmdW: inputs.inverterCmdW,
        contactorCmd: inputs.contactorCmd,
        gridRelayCmd: inputs.gridRelayCmd,
        islandAllowed: inputs.islandCmd ?? false,
        gridUp: state.site.gridUp,
        ambientC,
        dischargeAllowed,
        chargeAllowed,
        islandDemandW: state.site.houseW - state.site.pvW,
    })
    const battery = stepBattery(params.battery, state.battery, dtS, { requestedW: outlets.dcDrawW + inverter.dcPowerW, ambientC })
    const site = stepSite(params.site, state.site, dtS, { inverterAcW: inverter.acPowerW, gridRelayClosed: inverter.gridRelayClosed })
    return { tS: state.tS + dtS, battery, inverter, outlets, site }
}

/** Plugs an appliance into an outlet (0-based index), starting now; loadW 0 = load off. */
export function setOutletLoad(params: PlantParams, state: PlantState, outletIndex: number, loadW: number, inrushW?: number, inrushS?: number): PlantState {
    return { ...state, outlets: setAppliance(params.outlets, state.outlets, outletIndex, { loadW, inrushW, inrushS }, state.tS) }
}

export function setHouse(state: PlantState, houseW: number): PlantState {
    return { ...state, site: { ...state.site, houseW } }
}

export function setPv(state: PlantState, pvW: number): PlantState {
    return { ...state, site: { ...state.site, pvW } }
}

export function setAmbient(state: PlantState, tempC: number): PlantState {
    return { ...state, site: { ...state.site, ambientC: tempC } }
}

export function setGrid(state: PlantState, grid: { up: boolean; voltageV?: number; frequencyHz?: number }): PlantState {
    const site = state.site
    return {
        ...state,
        site: { ...site, gridUp: grid.up, gridVoltageV: grid.voltageV ?? site.gridVoltageV, gridFrequencyHz: grid.frequencyHz ?? site.gridFrequencyHz },
    }
}

/** Injects or clears a welded-contact fault (outlet numbers are 1-based). Welding closes the contact at once; outlet outputs refresh on the next step. */
export function setFault(state: PlantState, name: PlantFault, active: boolean): PlantState {
    if (name === "contactor_welded") return { ...state, inverter: setContactorWelded(state.inverter, active) }
    if (name === "grid_relay_welded") return { ...state, inverter: setGridRelayWelded(state.inverter, active) }
    const m = /^outlet(\d+)_relay_welded$/.exec(name)
    if (!m) throw new RangeError(`unknown fault ${name}`)
    return { ...state, outlets: setOutletRelayWelded(state.outlets, Number(m[1]) - 1, active) }
}

/**
 * A scenario's `plant` overrides ({ part: { parameter: value } }) merged onto `base`. Unknown parts or
 * parameters and values of the wrong type are returned as problems ("/plant/part/key = value: why");
 * the params are only meaningful when there are none.
 */
export function mergePlantParams(
    overrides: Record<string, Record<string, number | boolean>>,
    base: PlantParams = DEFAULT_PLANT_PARAMS,
): { params: PlantParams; problems: string[] } {
    const params: any = structuredClone(base)
    const problems: string[] = []
    for (const [part, values] of Object.entries(overrides)) {
        if (!Object.prototype.hasOwnProperty.call(params, part)) {
            problems.push(`/plant/${part}: unknown plant part (allowed: ${Object.keys(params).join(", ")})`)
            continue
        }
        for (const [key, v] of Object.entries(values)) {
            const known = Object.prototype.hasOwnProperty.call(params[part], key)
            if (!known || typeof params[part][key] !== typeof v)
                problems.push(`/plant/${part}/${key} = ${JSON.stringify(v)}: ${known ? `must be a ${typeof params[part][key]}` : "unknown parameter"}`)
            else params[part][key] = v
        }
    }
    return { params, problems }
}

/** Sets the inverter's temperature at once (it then evolves with its thermal model). */
export function setInverterTemp(state: PlantState, tempC: number): PlantState {
    return { ...state, inverter: { ...state.inverter, tempC } }
}
