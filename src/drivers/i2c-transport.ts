// The I2C transport the chip drivers talk through. Injected, so that the register arithmetic and
// the drivers' read/convert sequences run on Node against a fake register map (tests/unit), and on
// the device through the runtime's I2C primitive (src/drivers/ds-i2c.ts). Bytes are plain number arrays.

export interface I2CTransport {
    /**
     * Writes `write` to the 7-bit `address`, then (repeated start) reads `readLength` bytes.
     * `readLength` 0 is a plain write. Rejects on a bus error (NACK, timeout).
     */
    xfer(address: number, write: number[], readLength: number): Promise<number[]>
}

/** Big-endian unsigned integer of `bytes`. */
export function beUint(bytes: number[]): number {
    let v = 0
    for (let i = 0; i < bytes.length; i++) v = v * 256 + (bytes[i] & 0xff)
    return v
}

/** Two's complement of the low `bits` bits of `raw` (bits <= 32). */
export function signed(raw: number, bits: number): number {
    const full = Math.pow(2, bits)
    const v = raw % full
    return v >= full / 2 ? v - full : v
}

/** `value` as `count` big-endian bytes. */
export function beBytes(value: number, count: number): number[] {
    const out: number[] = []
    let v = value
    for (let i = 0; i < count; i++) {
        out.unshift(v % 256)
        v = Math.floor(v / 256)
    }
    return out
}
