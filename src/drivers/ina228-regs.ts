// TI INA228 (85 V, 20-bit power/energy monitor, I2C) on the DC side: the traction-battery link's
// shunt current and bus voltage. Pure: register words and raw -> engineering units, plus the read
// sequence over an injected I2C transport.
//
// Datasheet: TI SBOSA20A "INA228 85-V, 20-Bit, Ultra-Precise Power/Energy/Charge Monitor",
// sec. 7.6 "Register Maps" and 8.1.2 "Current and Power Calculations".
//
// Wiring on these boards: the INA228 sits on the pack side (shunt in the negative DC lead, its
// ground referenced to the pack negative) behind an I2C isolator; VBUS measures the DC link through
// a resistive divider (the INA228 takes at most 85 V), whose ratio comes from the board file
// ($charger.dcMonitor.busDividerRatio), as do the shunt resistance and the full-scale current.
//
// The words the driver writes depend only on the board file: scripts/gen-boards.ts calls
// ina228Setup on Node and writes its numbers into src/config/board-<id>.gen.ts; the device reads
// them (so the firmware image carries no calibration arithmetic). Lookup tables live inside the
// functions that use them: a module-level array would be built at every start of the device.
import { I2CTransport, beBytes, beUint, signed } from "./i2c-transport"

export const INA228_REG_CONFIG = 0x00
export const INA228_REG_ADC_CONFIG = 0x01
export const INA228_REG_SHUNT_CAL = 0x02
export const INA228_REG_VSHUNT = 0x04
export const INA228_REG_VBUS = 0x05
export const INA228_REG_DIETEMP = 0x06
export const INA228_REG_CURRENT = 0x07
export const INA228_REG_POWER = 0x08
export const INA228_REG_MANUFACTURER_ID = 0x3e
export const INA228_REG_DEVICE_ID = 0x3f
/** "TI" in ASCII (sec. 7.6.1.17). */
export const INA228_MANUFACTURER_ID = 0x5449
/** DEVICE_ID[15:4] (sec. 7.6.1.18); [3:0] is the silicon revision. */
export const INA228_DIE_ID = 0x228

/** VBUS LSB: 195.3125 uV (sec. 7.6.1.6). */
export const INA228_VBUS_LSB_V = 195.3125e-6
/** VSHUNT LSB: 312.5 nV with ADCRANGE = 0, 78.125 nV with ADCRANGE = 1 (sec. 7.6.1.5). */
export const INA228_VSHUNT_LSB_V = 312.5e-9
export const INA228_VSHUNT_LSB_V_ADCRANGE1 = 78.125e-9
/** DIETEMP LSB: 7.8125 m°C (sec. 7.6.1.7). */
export const INA228_DIETEMP_LSB_C = 7.8125e-3
/** Shunt full scale: ±163.84 mV (ADCRANGE = 0) or ±40.96 mV (ADCRANGE = 1) (sec. 7.6.1.1). */
export const INA228_SHUNT_FULL_SCALE_V = 0.16384
export const INA228_SHUNT_FULL_SCALE_V_ADCRANGE1 = 0.04096
/** CONFIG bit 15, RST: a write with it set resets every register (sec. 7.6.1.1). */
export const INA228_CONFIG_RST = 0x8000
/** ADC_CONFIG the driver uses: 1052 us conversion time for bus, shunt and temperature, 16 averages. */
export const INA228_CONV_TIME_USED_US = 1052
export const INA228_AVERAGES_USED = 16

export interface Ina228Calibration {
    /** 0: ±163.84 mV shunt range, 1: ±40.96 mV (4x finer). */
    adcRange: number
    /** Current_LSB = maximum expected current / 2^19 (eq. 2). */
    currentLsbA: number
    /** SHUNT_CAL register value (eq. 1, x4 when ADCRANGE = 1). */
    shuntCal: number
}

/**
 * Calibration for a shunt and a full-scale current (sec. 8.1.2, eq. 1 and 2):
 * Current_LSB = I_max / 2^19; SHUNT_CAL = 13107.2e6 * Current_LSB * R_SHUNT (x4 if ADCRANGE = 1).
 * Picks the finer ±40.96 mV range when I_max * R_SHUNT fits in it. Throws on impossible values.
 */
export function ina228Calibration(shuntOhms: number, maxCurrentA: number): Ina228Calibration {
    if (!(shuntOhms > 0) || !(maxCurrentA > 0)) throw new RangeError("INA228: shuntOhms and maxCurrentA must be > 0")
    const shuntV = shuntOhms * maxCurrentA
    if (shuntV > INA228_SHUNT_FULL_SCALE_V)
        throw new RangeError("INA228: maxCurrentA * shuntOhms = " + shuntV + " V exceeds the 163.84 mV shunt range")
    const adcRange = shuntV <= INA228_SHUNT_FULL_SCALE_V_ADCRANGE1 ? 1 : 0
    const currentLsbA = maxCurrentA / 524288
    const shuntCal = Math.round(13107.2e6 * currentLsbA * shuntOhms * (adcRange === 1 ? 4 : 1))
    // SHUNT_CAL = 25,000 * shunt voltage at I_max (x4 in the 4x finer range) <= 4096: always fits 15 bits.
    if (shuntCal < 1) throw new RangeError("INA228: SHUNT_CAL rounds to 0; shunt or maxCurrentA too small")
    return { adcRange, currentLsbA, shuntCal }
}

/** CONFIG word (sec. 7.6.1.1): RST bit 15, ADCRANGE bit 4; everything else at reset values. */
export function ina228ConfigWord(adcRange: number, reset = false): number {
    return (reset ? INA228_CONFIG_RST : 0) | (adcRange ? 0x10 : 0)
}

/**
 * ADC_CONFIG word (sec. 7.6.1.2): MODE[15:12] = 0xF (continuous bus, shunt and temperature),
 * VBUSCT[11:9], VSHCT[8:6], VTCT[5:3], AVG[2:0]. The reset value is 0xFB68 (1052 us each, AVG 1).
 */
export function ina228AdcConfigWord(convTimeUs: number, averages: number): number {
    /** Conversion-time codes (sec. 7.6.1.2): 0 = 50 us ... 7 = 4120 us. */
    const convTimesUs = [50, 84, 150, 280, 540, 1052, 2074, 4120]
    /** Averaging codes: 0 = 1 ... 7 = 1024 samples. */
    const averageCounts = [1, 4, 16, 64, 128, 256, 512, 1024]
    const ct = convTimesUs.indexOf(convTimeUs)
    const avg = averageCounts.indexOf(averages)
    if (ct < 0) throw new RangeError("INA228: conversion time " + convTimeUs + " us is not one of " + convTimesUs.join(", "))
    if (avg < 0) throw new RangeError("INA228: averages " + averages + " is not one of " + averageCounts.join(", "))
    return 0xf000 | (ct << 9) | (ct << 6) | (ct << 3) | avg
}

/** A 20-bit result in bits [23:4] of a 24-bit register, two's complement (VSHUNT, VBUS, CURRENT). */
export function ina228Raw20(raw24: number): number {
    return signed(Math.floor(raw24 / 16), 20)
}

/** Bus voltage at the VBUS pin, V. */
export function ina228BusVoltageV(raw24: number): number {
    return ina228Raw20(raw24) * INA228_VBUS_LSB_V
}

/** Shunt voltage, V. */
export function ina228ShuntVoltageV(raw24: number, adcRange: number): number {
    return ina228Raw20(raw24) * (adcRange ? INA228_VSHUNT_LSB_V_ADCRANGE1 : INA228_VSHUNT_LSB_V)
}

/** Current (CURRENT register), A: raw * Current_LSB (sec. 8.1.2, eq. 3). */
export function ina228CurrentA(raw24: number, currentLsbA: number): number {
    return ina228Raw20(raw24) * currentLsbA
}

/** Power (POWER register, 24-bit unsigned), W at the VBUS pin: 3.2 * Current_LSB * raw (eq. 4). */
export function ina228PowerW(raw24: number, currentLsbA: number): number {
    return 3.2 * currentLsbA * raw24
}

/** Die temperature (DIETEMP, 16-bit two's complement), °C. */
export function ina228DieTempC(raw16: number): number {
    return signed(raw16, 16) * INA228_DIETEMP_LSB_C
}

export interface Ina228Config {
    /** 7-bit I2C address (0x40..0x4F by the A0/A1 straps). */
    address: number
    shuntOhms: number
    maxCurrentA: number
    /** DC-link voltage / voltage at the VBUS pin. */
    busDividerRatio: number
}

export interface DcReading {
    /** DC-link voltage (VBUS times the divider ratio), V. */
    voltageV: number
    /** Current through the shunt, A, positive = out of the pack (discharge). */
    currentA: number
    /** voltageV * currentA, W. */
    powerW: number
    /** INA228 die temperature, °C. */
    dieTempC: number
}

/** What the driver needs on the device (see ina228Setup). */
export interface Ina228Setup {
    address: number
    busDividerRatio: number
    /** CONFIG after the reset: ina228ConfigWord(calibration.adcRange). */
    configWord: number
    /** ina228AdcConfigWord(INA228_CONV_TIME_USED_US, INA228_AVERAGES_USED). */
    adcConfigWord: number
    /** ina228Calibration(...).shuntCal */
    shuntCal: number
    /** ina228Calibration(...).currentLsbA */
    currentLsbA: number
}

/**
 * The driver's run-time numbers for a board's DC monitor: the calibration and the words init writes.
 * Called by scripts/gen-boards.ts at build time (throws on impossible values, which fails the build).
 */
export function ina228Setup(cfg: Ina228Config): Ina228Setup {
    if (!(cfg.busDividerRatio >= 1)) throw new RangeError("INA228: busDividerRatio must be >= 1")
    const cal = ina228Calibration(cfg.shuntOhms, cfg.maxCurrentA)
    return {
        address: cfg.address,
        busDividerRatio: cfg.busDividerRatio,
        configWord: ina228ConfigWord(cal.adcRange),
        adcConfigWord: ina228AdcConfigWord(INA228_CONV_TIME_USED_US, INA228_AVERAGES_USED),
        shuntCal: cal.shuntCal,
        currentLsbA: cal.currentLsbA,
    }
}

/** The INA228 on a transport, with its build-time setup (ina228Setup): identity check, configuration, one reading. */
export class Ina228 {
    constructor(
        private readonly bus: I2CTransport,
        readonly setup: Ina228Setup,
    ) {}

    private async read(reg: number, bytes: number) {
        return beUint(await this.bus.xfer(this.setup.address, [reg], bytes))
    }

    private async write16(reg: number, value: number) {
        await this.bus.xfer(this.setup.address, [reg, ...beBytes(value, 2)], 0)
    }

    /** Checks the IDs, resets (CONFIG = RST), writes CONFIG, ADC_CONFIG and SHUNT_CAL. */
    async init() {
        const s = this.setup
        const mfr = await this.read(INA228_REG_MANUFACTURER_ID, 2)
        const dev = await this.read(INA228_REG_DEVICE_ID, 2)
        if (mfr !== INA228_MANUFACTURER_ID || Math.floor(dev / 16) !== INA228_DIE_ID)
            throw new Error("INA228 not found at I2C address " + s.address + " (ids " + mfr + ", " + dev + ")")
        await this.write16(INA228_REG_CONFIG, INA228_CONFIG_RST)
        await this.write16(INA228_REG_CONFIG, s.configWord)
        await this.write16(INA228_REG_ADC_CONFIG, s.adcConfigWord)
        await this.write16(INA228_REG_SHUNT_CAL, s.shuntCal)
    }

    /**
     * One reading. Checks SHUNT_CAL first: after a brown-out the chip comes back with SHUNT_CAL = 0
     * and would report 0 A; that throws instead (the shell re-initialises the chip).
     */
    async readDc(): Promise<DcReading> {
        const s = this.setup
        const cal = await this.read(INA228_REG_SHUNT_CAL, 2)
        if (cal !== s.shuntCal) throw new Error("INA228: SHUNT_CAL reads " + cal + ", expected " + s.shuntCal + " (chip reset?)")
        const voltageV = ina228BusVoltageV(await this.read(INA228_REG_VBUS, 3)) * s.busDividerRatio
        const currentA = ina228CurrentA(await this.read(INA228_REG_CURRENT, 3), s.currentLsbA)
        const dieTempC = ina228DieTempC(await this.read(INA228_REG_DIETEMP, 2))
        return { voltageV, currentA, powerW: voltageV * currentA, dieTempC }
    }
}
