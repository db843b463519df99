// TI TMP102 digital temperature sensor (I2C) on the inverter heatsink. Pure: raw -> °C, the
// configuration word, and the read sequence over an injected I2C transport.
//
// Datasheet: TI SBOS397 "TMP102", sec. 7.5.3 "Temperature Register" (12-bit left-justified,
// 0.0625 °C/LSB, two's complement; in extended mode (EM = 1) 13 bits and bit 0 of the low byte
// reads 1), Table 7-2 "12-Bit Temperature Data Format" and 7.5.4 "Configuration Register"
// (reset value 0x60A0: 12-bit resolution, 4 Hz conversion rate, comparator mode).
//
// The configuration word is a build-time constant: scripts/gen-boards.ts calls tmp102Setup on Node
// and writes it into src/config/board-<id>.gen.ts; the device reads it.
import { I2CTransport, beUint, signed } from "./i2c-transport"

export const TMP102_REG_TEMPERATURE = 0x00
export const TMP102_REG_CONFIG = 0x01
export const TMP102_LSB_C = 0.0625
/** The configuration the driver writes: 4 Hz, 12-bit (EM = 0), i.e. the reset value 0x60A0. */
export const TMP102_RATE_USED_HZ = 4
export const TMP102_EXTENDED_USED = false

/** Temperature register (16 bits as read, MSB first) -> °C, 12-bit or extended 13-bit mode. */
export function tmp102TempC(raw16: number): number {
    if (raw16 & 1) return signed(raw16 >> 3, 13) * TMP102_LSB_C // EM = 1: 13-bit
    return signed(raw16 >> 4, 12) * TMP102_LSB_C
}

/** Configuration word: SD = 0, TM = 0 (comparator), R1:R0 read-only 11, CR from `rateHz`, EM. */
export function tmp102ConfigWord(rateHz: number, extended: boolean): number {
    /** Conversion-rate codes CR1:CR0 (config bits 7:6): 0.25, 1, 4, 8 Hz. */
    const ratesHz = [0.25, 1, 4, 8]
    const cr = ratesHz.indexOf(rateHz)
    if (cr < 0) throw new RangeError("TMP102: rate " + rateHz + " Hz is not one of " + ratesHz.join(", "))
    return 0x6000 | (cr << 6) | 0x20 | (extended ? 0x10 : 0)
}

/** What the driver needs on the device (see tmp102Setup). */
export interface Tmp102Setup {
    address: number
    /** tmp102ConfigWord(TMP102_RATE_USED_HZ, TMP102_EXTENDED_USED) */
    configWord: number
}

/** The driver's run-time numbers for a board's heatsink sensor (called by scripts/gen-boards.ts). */
export function tmp102Setup(address: number): Tmp102Setup {
    return { address, configWord: tmp102ConfigWord(TMP102_RATE_USED_HZ, TMP102_EXTENDED_USED) }
}

/** The TMP102 on a transport, with its build-time setup (tmp102Setup). */
export class Tmp102 {
    constructor(
        private readonly bus: I2CTransport,
        readonly setup: Tmp102Setup,
    ) {}

    /** Writes the configuration word, MSB first. */
    async init() {
        const w = this.setup.configWord
        await this.bus.xfer(this.setup.address, [TMP102_REG_CONFIG, w >> 8, w & 0xff], 0)
    }

    async readTempC(): Promise<number> {
        return tmp102TempC(beUint(await this.bus.xfer(this.setup.address, [TMP102_REG_TEMPERATURE], 2)))
    }
}
