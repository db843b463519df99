// Analog Devices ADE7953 (single-phase energy metering IC, I2C) measuring both accessory outlets:
// one voltage channel on the shared AC 100 V outlet bus, current channel A = outlet 1 and current
// channel B = outlet 2, each through a current transformer with a burden resistor. One chip gives
// both outlets' real power and RMS current from the same sample window, which is what the
// OutletMeter service carries (services/outlet-meter.md). Pure: register layout, raw -> units, and
// the read sequence over an injected I2C transport.
//
// Datasheet: Analog Devices ADE7953 Rev. C, "I2C Interface" (16-bit register address, MSB first),
// "Current Channel RMS / Voltage Channel RMS Calculation" (full-scale RMS code 9,032,007 for a
// full-scale ±500 mV sine at PGA gain 1), "Active Power Calculation" (full-scale code 4,862,401
// with full-scale inputs on both channels), Table 15 "24-bit registers" (AWATT 0x212, BWATT 0x213,
// IRMSA 0x21A, IRMSB 0x21B, VRMS 0x21C; powers two's complement), and the power-up note that
// register 0x120 must be set to 0x0030 after unlocking with 0xAD at 0x0FE.
//
// The scale factors depend only on the board file: scripts/gen-boards.ts calls ade7953Setup on
// Node and writes its numbers into src/config/board-<id>.gen.ts; the device reads them (so the
// firmware image carries no scale arithmetic).
import { I2CTransport, beBytes, beUint, signed } from "./i2c-transport"

export const ADE7953_I2C_ADDRESS = 0x38
/** PGA gain registers; bits [2:0] select gain 1, 2, 4, 8, 16 or 22 (codes 0..5). */
export const ADE7953_REG_PGA_V = 0x007
export const ADE7953_REG_PGA_IA = 0x008
export const ADE7953_REG_PGA_IB = 0x009
export const ADE7953_REG_UNLOCK = 0x0fe
export const ADE7953_UNLOCK_KEY = 0xad
export const ADE7953_REG_RESERVED_120 = 0x120
export const ADE7953_RESERVED_120_VALUE = 0x0030
export const ADE7953_REG_AWATT = 0x212
export const ADE7953_REG_BWATT = 0x213
export const ADE7953_REG_IRMSA = 0x21a
export const ADE7953_REG_IRMSB = 0x21b
export const ADE7953_REG_VRMS = 0x21c
export const ADE7953_REG_VERSION = 0x702

/**
 * Full-scale analog input: ±500 mV peak at PGA gain 1, i.e. 0.5/sqrt(2) V RMS for a sine. Written
 * as the number (a constant the compiler inlines; a test checks it equals 0.5 / Math.sqrt(2)).
 */
export const ADE7953_FULL_SCALE_RMS_V = 0.35355339059327373
/** IRMS/VRMS code for a full-scale sine. */
export const ADE7953_RMS_FULL_SCALE_CODE = 9032007
/** AWATT/BWATT code with full-scale sines in phase on both channels. */
export const ADE7953_WATT_FULL_SCALE_CODE = 4862401

export interface CtChannel {
    /** Current-transformer turns ratio (primary A per secondary A). */
    ctTurns: number
    /** Burden resistor across the CT secondary, ohms. */
    burdenOhms: number
}

export interface Ade7953Config {
    address: number
    /** Outlet-bus voltage / voltage at the V input (resistive divider). */
    voltageDividerRatio: number
    /** Channel A = outlet 1, channel B = outlet 2. */
    channels: CtChannel[]
}

export interface Ade7953Scale {
    voltageVPerLsb: number
    /** Per channel (A, B). */
    currentAPerLsb: number[]
    powerWPerLsb: number[]
}

/** What the driver needs on the device: the address and the scale factors (see ade7953Setup). */
export interface Ade7953Setup extends Ade7953Scale {
    address: number
}

/**
 * Scale factors from the front end (PGA gain 1): RMS codes are linear in the input RMS voltage
 * (9,032,007 at 0.5/sqrt(2) V); a current channel's input is I / ctTurns * burdenOhms; full-scale
 * power is the product of both channels' full-scale RMS values at 4,862,401.
 */
export function ade7953Scale(cfg: Ade7953Config): Ade7953Scale {
    if (!(cfg.voltageDividerRatio > 0)) throw new RangeError("ADE7953: voltageDividerRatio must be > 0")
    if (cfg.channels.length !== 2) throw new RangeError("ADE7953: two current channels (outlet 1 = A, outlet 2 = B)")
    const inputVPerLsb = ADE7953_FULL_SCALE_RMS_V / ADE7953_RMS_FULL_SCALE_CODE
    const fullScaleV = ADE7953_FULL_SCALE_RMS_V * cfg.voltageDividerRatio
    const currentAPerLsb: number[] = []
    const powerWPerLsb: number[] = []
    for (const ch of cfg.channels) {
        if (!(ch.ctTurns > 0) || !(ch.burdenOhms > 0)) throw new RangeError("ADE7953: ctTurns and burdenOhms must be > 0")
        const ampsPerInputV = ch.ctTurns / ch.burdenOhms
        currentAPerLsb.push(inputVPerLsb * ampsPerInputV)
        powerWPerLsb.push((fullScaleV * ADE7953_FULL_SCALE_RMS_V * ampsPerInputV) / ADE7953_WATT_FULL_SCALE_CODE)
    }
    return { voltageVPerLsb: inputVPerLsb * cfg.voltageDividerRatio, currentAPerLsb, powerWPerLsb }
}

/**
 * The driver's run-time numbers for a board's outlet meter: its address and ade7953Scale. Called by
 * scripts/gen-boards.ts at build time (throws on impossible calibration, which fails the build).
 */
export function ade7953Setup(cfg: Ade7953Config): Ade7953Setup {
    const s = ade7953Scale(cfg)
    return { address: cfg.address, voltageVPerLsb: s.voltageVPerLsb, currentAPerLsb: s.currentAPerLsb, powerWPerLsb: s.powerWPerLsb }
}

/** I2C write frame: 16-bit register address MSB first, then the value MSB first. */
export function ade7953WriteFrame(reg: number, value: number, bytes: number): number[] {
    return [...beBytes(reg, 2), ...beBytes(value, bytes)]
}

/** A 24-bit power register (two's complement). */
export function ade7953Power24(raw: number): number {
    return signed(raw, 24)
}

export interface OutletSample {
    powerW: number
    currentA: number
    voltageV: number
}

/** The ADE7953 on a transport, with its build-time setup (ade7953Setup). */
export class Ade7953 {
    constructor(
        private readonly bus: I2CTransport,
        readonly setup: Ade7953Setup,
    ) {}

    private async read(reg: number, bytes: number) {
        return beUint(await this.bus.xfer(this.setup.address, beBytes(reg, 2), bytes))
    }

    private async write(reg: number, value: number, bytes: number) {
        await this.bus.xfer(this.setup.address, ade7953WriteFrame(reg, value, bytes), 0)
    }

    /** Power-up settings: unlock, 0x120 = 0x0030, PGA gain 1 on all channels. */
    async init() {
        await this.write(ADE7953_REG_UNLOCK, ADE7953_UNLOCK_KEY, 1)
        await this.write(ADE7953_REG_RESERVED_120, ADE7953_RESERVED_120_VALUE, 2)
        await this.write(ADE7953_REG_PGA_V, 0, 1)
        await this.write(ADE7953_REG_PGA_IA, 0, 1)
        await this.write(ADE7953_REG_PGA_IB, 0, 1)
    }

    /**
     * One reading per outlet (index 0 = channel A = outlet 1); the voltage is shared. Channel B's
     * registers follow channel A's (AWATT + 1 = BWATT, IRMSA + 1 = IRMSB).
     */
    async readOutlets(): Promise<OutletSample[]> {
        const s = this.setup
        const voltageV = (await this.read(ADE7953_REG_VRMS, 3)) * s.voltageVPerLsb
        const out: OutletSample[] = []
        for (let i = 0; i < 2; i++) {
            const powerW = ade7953Power24(await this.read(ADE7953_REG_AWATT + i, 3)) * s.powerWPerLsb[i]
            const currentA = (await this.read(ADE7953_REG_IRMSA + i, 3)) * s.currentAPerLsb[i]
            out.push({ powerW, currentA, voltageV })
        }
        return out
    }
}
