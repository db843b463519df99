// The device side of the I2C transport: @devicescript/i2c on the board's I2C bus (board file `i2c`).
import { i2c } from "@devicescript/i2c"
import { I2CTransport } from "./i2c-transport"

class DsI2C implements I2CTransport {
    async xfer(address: number, write: number[], readLength: number): Promise<number[]> {
        const rd = await i2c.xfer(address, Buffer.from(write), readLength)
        const out: number[] = []
        for (let i = 0; i < readLength; i++) out.push(rd[i])
        return out
    }
}

export const dsI2C: I2CTransport = new DsI2C()
