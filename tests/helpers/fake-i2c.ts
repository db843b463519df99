// A fake I2C bus for driver tests: register maps per address, a log of every transfer.
import type { I2CTransport } from "../../src/drivers/i2c-transport"

export class FakeI2C implements I2CTransport {
    /** address -> register-address key (bytes joined by ",") -> bytes returned on read. */
    readonly regs = new Map<number, Map<string, number[]>>()
    readonly log: { address: number; write: number[]; readLength: number }[] = []

    set(address: number, regBytes: number[], value: number[]) {
        if (!this.regs.has(address)) this.regs.set(address, new Map())
        this.regs.get(address)!.set(regBytes.join(","), value)
    }

    async xfer(address: number, write: number[], readLength: number): Promise<number[]> {
        this.log.push({ address, write: [...write], readLength })
        const dev = this.regs.get(address)
        if (!dev) throw new Error(`NACK from ${address}`)
        if (readLength === 0) return []
        const v = dev.get(write.join(","))
        if (!v) throw new Error(`no register ${write} at ${address}`)
        if (v.length !== readLength) throw new Error(`register ${write} has ${v.length} bytes, ${readLength} read`)
        return v
    }

    writes(address: number) {
        return this.log.filter(l => l.address === address && l.readLength === 0).map(l => l.write)
    }
}
