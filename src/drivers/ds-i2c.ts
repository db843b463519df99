// The device side of the I2C transport: one transaction on the board's I2C bus (board file `i2c`)
// through the runtime's I2C primitive `ds._i2cTransaction(address, write, readBuffer)`, which
// returns 0 on success or the bus status. That primitive is what @devicescript/i2c (2.16.4, pinned)
// calls in `I2C.xfer`; calling it here keeps that package's client class out of the image (seven
// methods and an error class the drivers do not use: about 0.7 KB of the 64 KiB code section).
// A failure rejects with the text the package's I2CError carries, so the driver logs read the same.
import * as ds from "@devicescript/core"
import { I2CTransport } from "./i2c-transport"

type I2CPrimitive = typeof ds & { _i2cTransaction(address: number, write: Buffer, read?: Buffer): Promise<number> }

/** The board's I2C bus (one per board; startChargerDrivers makes it). */
export class DsI2C implements I2CTransport {
    async xfer(address: number, write: number[], readLength: number): Promise<number[]> {
        const wr = Buffer.from(write)
        const rd = readLength ? Buffer.alloc(readLength) : undefined
        const status = await (ds as I2CPrimitive)._i2cTransaction(address, wr, rd)
        if (status !== 0) throw new Error(`I2C error ${status} dev=${address}: write ${wr}, read ${readLength} B`)
        const out: number[] = []
        for (let i = 0; i < readLength; i++) out.push(rd[i])
        return out
    }
}
