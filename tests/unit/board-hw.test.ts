// The chips' numbers in src/config/board-<id>.gen.ts (boardHw()) are computed at build time by
// scripts/gen-boards.ts: for every board file they must equal what the drivers' pure functions
// give for the board's $charger section, and the drivers must put on the bus exactly the frames
// they wrote when they computed those numbers on the device (reset, CONFIG with the calibration's
// ADCRANGE, ADC_CONFIG 1052 us / 16 averages, SHUNT_CAL; TMP102 4 Hz 12-bit; the ADE7953 power-up).
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { boardGenFile, calibrationProblems, renderBoardModule } from "../../scripts/gen-boards"
import { ROOT } from "../../scripts/lib/devs-config"
import { ADE7953_REG_AWATT, ADE7953_REG_IRMSA, ADE7953_REG_VRMS, Ade7953, ade7953Power24, ade7953Scale } from "../../src/drivers/ade7953-regs"
import type { ChargerHardware } from "../../src/drivers/charger-hardware"
import { beBytes } from "../../src/drivers/i2c-transport"
import {
    INA228_REG_ADC_CONFIG,
    INA228_REG_CONFIG,
    INA228_REG_CURRENT,
    INA228_REG_DEVICE_ID,
    INA228_REG_DIETEMP,
    INA228_REG_MANUFACTURER_ID,
    INA228_REG_SHUNT_CAL,
    INA228_REG_VBUS,
    Ina228,
    ina228AdcConfigWord,
    ina228BusVoltageV,
    ina228Calibration,
    ina228ConfigWord,
    ina228CurrentA,
} from "../../src/drivers/ina228-regs"
import { TMP102_REG_CONFIG, TMP102_REG_TEMPERATURE, Tmp102, tmp102ConfigWord, tmp102TempC } from "../../src/drivers/tmp102-regs"
import { FakeI2C } from "../helpers/fake-i2c"

const BOARD_IDS = readdirSync(join(ROOT, "boards"))
    .filter(f => f.endsWith(".board.json"))
    .map(f => f.replace(/\.board\.json$/, ""))
    .sort()
const boardFile = (id: string) => JSON.parse(readFileSync(join(ROOT, "boards", `${id}.board.json`), "utf8"))
const generated = async (id: string): Promise<ChargerHardware> => (await import(`../../src/config/board-${id}.gen.ts`)).boardHw()
const word = (w: number) => [w >> 8, w & 0xff]

describe.each(BOARD_IDS)("board %s: boardHw() computed at build time", id => {
    const c = boardFile(id).$charger

    it("the generated module on disk is what gen-boards renders from the board file now", () => {
        expect(readFileSync(boardGenFile(id), "utf8")).toBe(renderBoardModule(id, boardFile(id)))
    })

    it("every number equals the drivers' functions for the board's $charger section", async () => {
        const hw = await generated(id)
        const scale = ade7953Scale({ address: c.outletMeter.address, voltageDividerRatio: c.outletMeter.voltageDividerRatio, channels: [c.outletMeter.outlet1, c.outletMeter.outlet2] })
        expect(hw.outletMeter).toStrictEqual({ address: c.outletMeter.address, pollMs: c.outletMeter.pollMs, ...scale })
        const cal = ina228Calibration(c.dcMonitor.shuntOhms, c.dcMonitor.maxCurrentA)
        expect(hw.dcMonitor).toStrictEqual({
            address: c.dcMonitor.address,
            pollMs: c.dcMonitor.pollMs,
            busDividerRatio: c.dcMonitor.busDividerRatio,
            configWord: ina228ConfigWord(cal.adcRange),
            adcConfigWord: ina228AdcConfigWord(1052, 16),
            shuntCal: cal.shuntCal,
            currentLsbA: cal.currentLsbA,
        })
        expect(hw.heatsinkTemp).toStrictEqual({ address: c.heatsinkTemp.address, pollMs: c.heatsinkTemp.pollMs, configWord: tmp102ConfigWord(4, false) })
    })

    it("the drivers write the same frames and scale readings the same as when they computed them", async () => {
        const hw = await generated(id)
        const bus = new FakeI2C()
        const om = hw.outletMeter.address
        const dc = hw.dcMonitor.address
        bus.set(om, beBytes(ADE7953_REG_VRMS, 2), beBytes(0x2a0000, 3))
        for (let i = 0; i < 2; i++) {
            bus.set(om, beBytes(ADE7953_REG_AWATT + i, 2), beBytes(0xfedcba - i, 3))
            bus.set(om, beBytes(ADE7953_REG_IRMSA + i, 2), beBytes(0x012345 + i, 3))
        }
        bus.set(dc, [INA228_REG_MANUFACTURER_ID], [0x54, 0x49])
        bus.set(dc, [INA228_REG_DEVICE_ID], [0x22, 0x81])
        bus.set(dc, [INA228_REG_VBUS], beBytes(0x345670, 3))
        bus.set(dc, [INA228_REG_CURRENT], beBytes(0xf12340, 3))
        bus.set(dc, [INA228_REG_DIETEMP], [0x0c, 0x80])
        bus.set(hw.heatsinkTemp.address, [TMP102_REG_TEMPERATURE], [0x19, 0x10])
        const cal = ina228Calibration(c.dcMonitor.shuntOhms, c.dcMonitor.maxCurrentA)
        bus.set(dc, [INA228_REG_SHUNT_CAL], beBytes(cal.shuntCal, 2))
        const ade = new Ade7953(bus, hw.outletMeter)
        const ina = new Ina228(bus, hw.dcMonitor)
        const tmp = new Tmp102(bus, hw.heatsinkTemp)
        await ade.init()
        await ina.init()
        await tmp.init()
        expect(bus.writes(om)).toEqual([
            [0x00, 0xfe, 0xad],
            [0x01, 0x20, 0x00, 0x30],
            [0x00, 0x07, 0x00],
            [0x00, 0x08, 0x00],
            [0x00, 0x09, 0x00],
        ])
        expect(bus.writes(dc)).toEqual([
            [INA228_REG_CONFIG, ...word(ina228ConfigWord(0, true))],
            [INA228_REG_CONFIG, ...word(ina228ConfigWord(cal.adcRange))],
            [INA228_REG_ADC_CONFIG, ...word(ina228AdcConfigWord(1052, 16))],
            [INA228_REG_SHUNT_CAL, ...word(cal.shuntCal)],
        ])
        expect(bus.writes(hw.heatsinkTemp.address)).toEqual([[TMP102_REG_CONFIG, ...word(tmp102ConfigWord(4, false))]])

        const s = ade7953Scale({ address: om, voltageDividerRatio: c.outletMeter.voltageDividerRatio, channels: [c.outletMeter.outlet1, c.outletMeter.outlet2] })
        const outlets = await ade.readOutlets()
        for (let i = 0; i < 2; i++)
            expect(outlets[i]).toStrictEqual({
                powerW: ade7953Power24(0xfedcba - i) * s.powerWPerLsb[i],
                currentA: (0x012345 + i) * s.currentAPerLsb[i],
                voltageV: 0x2a0000 * s.voltageVPerLsb,
            })
        const r = await ina.readDc()
        expect(r.voltageV).toBe(ina228BusVoltageV(0x345670) * c.dcMonitor.busDividerRatio)
        expect(r.currentA).toBe(ina228CurrentA(0xf12340, cal.currentLsbA))
        expect(await tmp.readTempC()).toBe(tmp102TempC(0x1910))
    })
})

describe("gen-boards refuses what a driver would refuse", () => {
    it("a DC-link divider below 1:1", () => {
        const b = boardFile(BOARD_IDS[0])
        b.$charger.dcMonitor.busDividerRatio = 0.5
        expect(calibrationProblems(b)).toEqual([{ path: "/$charger/dcMonitor", rule: "calibration", message: "INA228: busDividerRatio must be >= 1" }])
    })
})
