// Register arithmetic of the chip drivers against datasheet values, and their read sequences
// over a fake I2C bus.
import { describe, expect, it } from "vitest"
import {
    ADE7953_REG_AWATT,
    ADE7953_REG_BWATT,
    ADE7953_REG_IRMSA,
    ADE7953_REG_IRMSB,
    ADE7953_REG_VRMS,
    ADE7953_FULL_SCALE_RMS_V,
    Ade7953,
    ade7953Power24,
    ade7953Scale,
    ade7953Setup,
    ade7953WriteFrame,
} from "../../src/drivers/ade7953-regs"
import { beBytes, beUint, signed } from "../../src/drivers/i2c-transport"
import {
    INA228_REG_ADC_CONFIG,
    INA228_REG_CONFIG,
    INA228_REG_CURRENT,
    INA228_REG_DEVICE_ID,
    INA228_REG_DIETEMP,
    INA228_REG_MANUFACTURER_ID,
    INA228_REG_SHUNT_CAL,
    INA228_REG_VBUS,
    INA228_CONFIG_RST,
    Ina228,
    ina228AdcConfigWord,
    ina228BusVoltageV,
    ina228Calibration,
    ina228ConfigWord,
    ina228CurrentA,
    ina228DieTempC,
    ina228PowerW,
    ina228Setup,
    ina228ShuntVoltageV,
} from "../../src/drivers/ina228-regs"
import { TMP102_REG_CONFIG, TMP102_REG_TEMPERATURE, Tmp102, tmp102ConfigWord, tmp102Setup, tmp102TempC } from "../../src/drivers/tmp102-regs"
import { FakeI2C } from "../helpers/fake-i2c"

describe("byte helpers", () => {
    it("two's complement at the sign boundary", () => {
        expect(signed(0x7fffff, 24)).toBe(8388607)
        expect(signed(0x800000, 24)).toBe(-8388608)
        expect(signed(0xffffff, 24)).toBe(-1)
        expect(signed(0x0, 24)).toBe(0)
        expect(signed(0x8000, 16)).toBe(-32768)
    })
    it("big-endian round trip", () => {
        expect(beUint([0x12, 0x34, 0x56])).toBe(0x123456)
        expect(beBytes(0x123456, 3)).toEqual([0x12, 0x34, 0x56])
        expect(beBytes(0x30, 2)).toEqual([0x00, 0x30])
    })
})

describe("TMP102 (SBOS397 Table 7-2, 12-bit data format)", () => {
    // [°C, 12-bit code]: the datasheet's table rows
    const table: [number, number][] = [
        [127.9375, 0x7ff],
        [100, 0x640],
        [80, 0x500],
        [75, 0x4b0],
        [50, 0x320],
        [25, 0x190],
        [0.25, 0x004],
        [0, 0x000],
        [-0.25, 0xffc],
        [-25, 0xe70],
        [-55, 0xc90],
    ]
    it.each(table)("%s °C <- 12-bit code %s (left-justified in the 16-bit register)", (tempC, code) => {
        expect(tmp102TempC(code << 4)).toBe(tempC)
    })
    it("extended mode (EM = 1): 13-bit code, bit 0 set; 150 °C = 0x960 (Table 7-3)", () => {
        expect(tmp102TempC((0x960 << 3) | 1)).toBe(150)
        expect(tmp102TempC((0x1c90 << 3) | 1)).toBe(-55)
    })
    it("configuration word: 4 Hz 12-bit is the reset value 0x60A0; rates and EM", () => {
        expect(tmp102ConfigWord(4, false)).toBe(0x60a0)
        expect(tmp102ConfigWord(8, false)).toBe(0x60e0)
        expect(tmp102ConfigWord(0.25, true)).toBe(0x6030)
        expect(() => tmp102ConfigWord(2, false)).toThrow(/rate 2 Hz/)
    })
    it("reads over I2C: config written, temperature register read", async () => {
        const bus = new FakeI2C()
        bus.set(0x48, [TMP102_REG_TEMPERATURE], [0x19, 0x00]) // 25 °C
        const t = new Tmp102(bus, tmp102Setup(0x48))
        await t.init()
        expect(bus.writes(0x48)).toEqual([[TMP102_REG_CONFIG, 0x60, 0xa0]])
        expect(await t.readTempC()).toBe(25)
    })
})

describe("INA228 (SBOSA20A sec. 7.6 and 8.1.2)", () => {
    it("calibration: Current_LSB = Imax / 2^19, SHUNT_CAL = 13107.2e6 * Current_LSB * R (x4 at ADCRANGE 1)", () => {
        // 10 A full scale on 15 mOhm: 150 mV needs the ±163.84 mV range (ADCRANGE 0)
        const a = ina228Calibration(0.015, 10)
        expect(a.adcRange).toBe(0)
        expect(a.currentLsbA).toBeCloseTo(10 / 524288, 15)
        expect(a.shuntCal).toBe(Math.round(13107.2e6 * (10 / 524288) * 0.015)) // 3750
        expect(a.shuntCal).toBe(3750)
        // the boards' 200 A on 0.1 mOhm: 20 mV fits ±40.96 mV -> ADCRANGE 1, SHUNT_CAL x4
        const b = ina228Calibration(0.0001, 200)
        expect(b.adcRange).toBe(1)
        expect(b.shuntCal).toBe(2000)
    })
    it("calibration rejects a shunt voltage beyond the range, and one too small to calibrate", () => {
        expect(() => ina228Calibration(0.01, 20)).toThrow(/163.84 mV/)
        expect(ina228Calibration(0.16, 1).shuntCal).toBe(4000) // 160 mV: the largest SHUNT_CAL is 4096
        expect(() => ina228Calibration(1e-6, 1)).toThrow(/rounds to 0/)
        expect(() => ina228Calibration(0, 1)).toThrow(/> 0/)
    })
    it("ADC_CONFIG: 1052 us, 1 average is the reset value 0xFB68; CONFIG ADCRANGE bit 4, RST bit 15", () => {
        expect(ina228AdcConfigWord(1052, 1)).toBe(0xfb68)
        expect(ina228AdcConfigWord(1052, 16)).toBe(0xfb6a)
        expect(ina228AdcConfigWord(50, 1)).toBe(0xf000)
        expect(() => ina228AdcConfigWord(1000, 1)).toThrow(/conversion time 1000/)
        expect(ina228ConfigWord(1)).toBe(0x0010)
        expect(ina228ConfigWord(0, true)).toBe(0x8000)
        expect(ina228ConfigWord(0, true)).toBe(INA228_CONFIG_RST) // what init writes first
    })
    it("setup: the calibration and the words init writes; a divider below 1:1 is refused", () => {
        const s = ina228Setup({ address: 0x41, shuntOhms: 0.015, maxCurrentA: 10, busDividerRatio: 2 })
        const cal = ina228Calibration(0.015, 10)
        expect(s).toEqual({
            address: 0x41,
            busDividerRatio: 2,
            configWord: ina228ConfigWord(cal.adcRange),
            adcConfigWord: ina228AdcConfigWord(1052, 16),
            shuntCal: cal.shuntCal,
            currentLsbA: cal.currentLsbA,
        })
        expect(() => ina228Setup({ address: 0x40, shuntOhms: 0.0001, maxCurrentA: 200, busDividerRatio: 0.5 })).toThrow(/busDividerRatio must be >= 1/)
        expect(() => ina228Setup({ address: 0x40, shuntOhms: 0.01, maxCurrentA: 20, busDividerRatio: 8 })).toThrow(/163.84 mV/)
    })
    it("20-bit results in bits 23:4, two's complement; LSBs 195.3125 uV, 312.5/78.125 nV, 7.8125 m°C", () => {
        expect(ina228BusVoltageV(0x000010)).toBeCloseTo(195.3125e-6, 12)
        expect(ina228BusVoltageV(0x7ffff0)).toBeCloseTo(524287 * 195.3125e-6, 6) // ≈ 102.4 V code limit
        expect(ina228ShuntVoltageV(0xfffff0, 0)).toBeCloseTo(-312.5e-9, 15) // -1 LSB
        expect(ina228ShuntVoltageV(0x800000, 1)).toBeCloseTo(-524288 * 78.125e-9, 12) // -40.96 mV
        expect(ina228CurrentA(0xfffff0, 0.001)).toBeCloseTo(-0.001, 12)
        expect(ina228CurrentA(0x000150, 0.001)).toBeCloseTo(0.021, 12) // 0x15 = 21 LSB
        expect(ina228DieTempC(0x0c80)).toBeCloseTo(25, 12) // 3200 * 7.8125 m°C
        expect(ina228DieTempC(0xff80)).toBeCloseTo(-1, 12)
        expect(ina228PowerW(1000, 0.001)).toBeCloseTo(3.2, 12) // 3.2 * Current_LSB * POWER
    })
    it("init checks the IDs and writes reset, CONFIG, ADC_CONFIG, SHUNT_CAL; readDc scales by the divider", async () => {
        const bus = new FakeI2C()
        const addr = 0x40
        bus.set(addr, [INA228_REG_MANUFACTURER_ID], [0x54, 0x49])
        bus.set(addr, [INA228_REG_DEVICE_ID], [0x22, 0x81])
        // 45 V at the pin (230400 LSB), 8:1 divider -> 360 V; -12.5 A (discharge sign negative here)
        bus.set(addr, [INA228_REG_VBUS], beBytes(230400 * 16, 3))
        const ina = new Ina228(bus, ina228Setup({ address: addr, shuntOhms: 0.0001, maxCurrentA: 200, busDividerRatio: 8 }))
        const lsb = ina.setup.currentLsbA
        bus.set(addr, [INA228_REG_CURRENT], beBytes(((1 << 20) - Math.round(12.5 / lsb)) * 16, 3))
        bus.set(addr, [INA228_REG_DIETEMP], [0x0c, 0x80])
        bus.set(addr, [INA228_REG_SHUNT_CAL], [0x07, 0xd0])
        await ina.init()
        expect(bus.writes(addr)).toEqual([
            [INA228_REG_CONFIG, 0x80, 0x00],
            [INA228_REG_CONFIG, 0x00, 0x10],
            [INA228_REG_ADC_CONFIG, 0xfb, 0x6a],
            [INA228_REG_SHUNT_CAL, 0x07, 0xd0],
        ])
        const dc = await ina.readDc()
        expect(dc.voltageV).toBeCloseTo(360, 9)
        expect(dc.currentA).toBeCloseTo(-12.5, 3)
        expect(dc.powerW).toBeCloseTo(-4500, 0)
        expect(dc.dieTempC).toBeCloseTo(25, 9)
    })
    it("a reading after the chip lost its calibration (brown-out: SHUNT_CAL = 0) is refused", async () => {
        const bus = new FakeI2C()
        bus.set(0x40, [INA228_REG_SHUNT_CAL], [0x00, 0x00])
        bus.set(0x40, [INA228_REG_VBUS], [0, 0, 0])
        bus.set(0x40, [INA228_REG_CURRENT], [0, 0, 0])
        bus.set(0x40, [INA228_REG_DIETEMP], [0, 0])
        const ina = new Ina228(bus, ina228Setup({ address: 0x40, shuntOhms: 0.0001, maxCurrentA: 200, busDividerRatio: 8 }))
        await expect(ina.readDc()).rejects.toThrow("INA228: SHUNT_CAL reads 0, expected 2000 (chip reset?)")
    })

    it("init refuses a chip with the wrong IDs", async () => {
        const bus = new FakeI2C()
        bus.set(0x40, [INA228_REG_MANUFACTURER_ID], [0x54, 0x49])
        bus.set(0x40, [INA228_REG_DEVICE_ID], [0x22, 0x61]) // an INA226-class die
        await expect(new Ina228(bus, ina228Setup({ address: 0x40, shuntOhms: 0.0001, maxCurrentA: 200, busDividerRatio: 8 })).init()).rejects.toThrow(
            /INA228 not found at I2C address 64/,
        )
    })
})

describe("ADE7953 (Rev. C: RMS and active power calculation, I2C interface)", () => {
    const cfg = {
        address: 0x38,
        voltageDividerRatio: 1001,
        channels: [
            { ctTurns: 2000, burdenOhms: 10 },
            { ctTurns: 1000, burdenOhms: 10 },
        ],
    }
    it("full-scale codes map to the front end's full scale", () => {
        const s = ade7953Scale(cfg)
        const fsInputV = 0.5 / Math.SQRT2
        expect(ADE7953_FULL_SCALE_RMS_V).toBe(0.5 / Math.sqrt(2)) // written as a number in the module
        // VRMS full-scale code 9,032,007 = 0.3536 V at the pin = 353.9 V on the outlet bus
        expect(9032007 * s.voltageVPerLsb).toBeCloseTo(fsInputV * 1001, 9)
        // IRMS full scale: 0.3536 V across 10 ohm = 35.36 mA secondary = 70.7 A primary at 2000:1
        expect(9032007 * s.currentAPerLsb[0]).toBeCloseTo((fsInputV / 10) * 2000, 9)
        expect(9032007 * s.currentAPerLsb[1]).toBeCloseTo((fsInputV / 10) * 1000, 9)
        // AWATT full scale 4,862,401 = V_fs * I_fs
        expect(4862401 * s.powerWPerLsb[0]).toBeCloseTo(fsInputV * 1001 * (fsInputV / 10) * 2000, 6)
    })
    it("power registers are 24-bit two's complement", () => {
        expect(ade7953Power24(0xffffff)).toBe(-1)
        expect(ade7953Power24(0x4a3201)).toBe(4862465)
        expect(ade7953Power24(0xb5cdff)).toBe(-4862465)
    })
    it("channel B's registers follow channel A's (the driver reads A + 1)", () => {
        expect(ADE7953_REG_AWATT + 1).toBe(ADE7953_REG_BWATT)
        expect(ADE7953_REG_IRMSA + 1).toBe(ADE7953_REG_IRMSB)
    })
    it("setup: the address and ade7953Scale's factors", () => {
        expect(ade7953Setup(cfg)).toEqual({ address: 0x38, ...ade7953Scale(cfg) })
    })
    it("write frames: 16-bit address then value, MSB first", () => {
        expect(ade7953WriteFrame(0x0fe, 0xad, 1)).toEqual([0x00, 0xfe, 0xad])
        expect(ade7953WriteFrame(0x120, 0x30, 2)).toEqual([0x01, 0x20, 0x00, 0x30])
    })
    it("rejects bad calibration", () => {
        expect(() => ade7953Scale({ ...cfg, voltageDividerRatio: 0 })).toThrow(/voltageDividerRatio/)
        expect(() => ade7953Scale({ ...cfg, channels: [cfg.channels[0]] })).toThrow(/two current channels/)
        expect(() => ade7953Scale({ ...cfg, channels: [cfg.channels[0], { ctTurns: 1000, burdenOhms: 0 }] })).toThrow(/burdenOhms/)
    })
    it("init writes the power-up settings; readOutlets gives [power, current, voltage] per outlet", async () => {
        const bus = new FakeI2C()
        const chip = new Ade7953(bus, ade7953Setup(cfg))
        const s = chip.setup
        const code = (v: number, lsb: number) => beBytes(Math.round(v / lsb), 3)
        bus.set(0x38, beBytes(ADE7953_REG_VRMS, 2), code(100, s.voltageVPerLsb))
        bus.set(0x38, beBytes(ADE7953_REG_AWATT, 2), code(1200, s.powerWPerLsb[0]))
        bus.set(0x38, beBytes(ADE7953_REG_IRMSA, 2), code(12, s.currentAPerLsb[0]))
        // outlet 2 feeds back (negative power): two's complement
        bus.set(0x38, beBytes(ADE7953_REG_BWATT, 2), beBytes(0x1000000 - Math.round(50 / s.powerWPerLsb[1]), 3))
        bus.set(0x38, beBytes(ADE7953_REG_IRMSB, 2), code(0.5, s.currentAPerLsb[1]))
        await chip.init()
        expect(bus.writes(0x38)).toEqual([
            [0x00, 0xfe, 0xad],
            [0x01, 0x20, 0x00, 0x30],
            [0x00, 0x07, 0x00],
            [0x00, 0x08, 0x00],
            [0x00, 0x09, 0x00],
        ])
        const [o1, o2] = await chip.readOutlets()
        expect(o1.voltageV).toBeCloseTo(100, 3)
        expect(o1.powerW).toBeCloseTo(1200, 1)
        expect(o1.currentA).toBeCloseTo(12, 4)
        expect(o2.powerW).toBeCloseTo(-50, 1)
        expect(o2.currentA).toBeCloseTo(0.5, 4)
        expect(o2.voltageV).toBe(o1.voltageV)
    })
})
