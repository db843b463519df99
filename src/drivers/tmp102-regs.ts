// TI TMP102 digital temperature sensor (I2C) on the inverter heatsink. Pure: raw -> °C, the
// configuration word, and the read sequence over an injected I2C transport.
//
// Datasheet: TI SBOS397 "TMP102", sec. 7.5.3 "Temperature Register" (12-bit left-justified,
// 0.0625 °C/LSB, two's complement; in extended mode (EM = 1) 13 bits and bit 0 of the low byte
// reads 1), Table 7-2 "12-Bit Temperature Data Format" and 7.5.4 "Configuration Register"
// (reset value 0x60A0: 12-bit resolution, 4 Hz conversion rate, comparator mode).
import { I2CTransport, beUint, signed } from "./i2c-transport"

export const TMP102_REG_TEMPERATURE = 0x00
export const TMP102_REG_CONFIG = 0x01
export const TMP102_LSB_C = 0.0625
/** Conversion-rate codes CR1:CR0 (config bits 7:6): 0.25, 1, 4, 8 Hz. */
export const TMP102_RATES_HZ = [0.25, 1, 4, 8]

/** Temperature register (16 bits as read, MSB first) -> °C, 12-bit or extended 13-bit mode. */
export function tmp102TempC(raw16: number): number {
    if (raw16 & 1) return signed(raw16 >> 3, 13) * TMP102_LSB_C // EM = 1: 13-bit
    return signed(raw16 >> 4, 12) * TMP102_LSB_C
}

/** Configuration word: SD = 0, TM = 0 (comparator), R1:R0 read-only 11, CR from `rateHz`, EM. */
export function tmp102ConfigWord(rateHz: number, extended: boolean): number {
    const cr = TMP102_RATES_HZ.indexOf(rateHz)
    if (cr < 0) throw new RangeError("TMP102: rate " + rateHz + " Hz is not one of " + TMP102_RATES_HZ.join(", "))
    return 0x6000 | (cr << 6) | 0x20 | (extended ? 0x10 : 0)
}

export class Tmp102 {
    constructor(
        private readonly bus: I2CTransport,
        readonly address: number,
    ) {}

    /** Writes the configuration: 4 Hz, 12-bit (the reset value 0x60A0). */
    async init() {
        const w = tmp102ConfigWord(4, false)
        await this.bus.xfer(this.address, [TMP102_REG_CONFIG, w >> 8, w & 0xff], 0)
    }

    async readTempC(): Promise<number> {
        return tmp102TempC(beUint(await this.bus.xfer(this.address, [TMP102_REG_TEMPERATURE], 2)))
    }
}
