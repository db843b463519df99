import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BoardProblem, CHIPS, checkBoard } from "../../scripts/lib/board-rules"
import { ROOT } from "../../scripts/lib/devs-config"
import { calibrationProblems } from "../../scripts/gen-boards"

const BOARD_IDS = ["charger_esp32", "charger_esp32s3"]
const shipped = (id: string) => JSON.parse(readFileSync(join(ROOT, "boards", `${id}.board.json`), "utf8"))

/** Problems of the shipped ESP32 board after `mutate`. */
function problemsOf(mutate: (b: any) => void, id = "charger_esp32"): BoardProblem[] {
    const b = shipped(id)
    mutate(b)
    return checkBoard(b)
}
const at = (ps: BoardProblem[], path: string) => ps.filter(p => p.path === path).map(p => p.rule)

describe("board rules", () => {
    it.each(BOARD_IDS)("accepts the shipped board %s", id => {
        expect(checkBoard(shipped(id))).toEqual([])
    })

    it("unknown keys at the top level, in a section, per service type and in $charger", () => {
        const ps = problemsOf(b => {
            b.devname = "typo"
            b.i2c.khz = 100
            b.services[0].pinFeedbak = 34 // relay key misspelt
            b.services[3].activeLow = true // button has activeHigh, not activeLow
            b.$charger.dcMonitor.shuntOhm = 0.001
            b.$charger.outletMeter.outlet1.ctTurn = 1000
        })
        expect(at(ps, "/devname")).toEqual(["unknown-key"])
        expect(at(ps, "/i2c/khz")).toEqual(["unknown-key"])
        expect(at(ps, "/services/0/pinFeedbak")).toEqual(["unknown-key"])
        expect(at(ps, "/services/3/activeLow")).toEqual(["unknown-key"])
        expect(at(ps, "/$charger/dcMonitor/shuntOhm")).toEqual(["unknown-key"])
        expect(at(ps, "/$charger/outletMeter/outlet1/ctTurn")).toEqual(["unknown-key"])
        expect(ps.find(p => p.path === "/services/0/pinFeedbak").message).toContain("allowed: pin, pinFeedback")
    })

    it("the Jacdac bus pin (power-stage link) is required and checked like every other pin", () => {
        expect(at(problemsOf(b => delete b.jacdac), "/jacdac")).toEqual(["required-key"])
        expect(at(problemsOf(b => (b.jacdac = {})), "/jacdac/pin")).toEqual(["required-key"])
        const dup = problemsOf(b => (b.jacdac.pin = 26)) // outlet1Relay's pin
        expect(at(dup, "/services/0/pin")).toEqual(["duplicate-pin"])
        expect(dup.find(p => p.rule === "duplicate-pin").message).toContain("/jacdac/pin")
        expect(at(problemsOf(b => (b.jacdac.pin = 34)), "/jacdac/pin")).toEqual(["input-only-pin"]) // the bus is driven
        expect(at(problemsOf(b => (b.jacdac.pin = 12)), "/jacdac/pin")).toEqual(["strapping-pin-bus"])
        expect(at(problemsOf(b => (b.jacdac.pin = 7)), "/jacdac/pin")).toEqual(["flash-pin"])
        expect(at(problemsOf(b => (b.jacdac.pin = 20)), "/jacdac/pin")).toEqual(["no-such-pin"])
        expect(at(problemsOf(b => (b.jacdac.pin = "P14")), "/jacdac/pin")).toEqual([]) // a spare label names it
        expect(at(problemsOf(b => (b.jacdac.pinn = 17)), "/jacdac/pinn")).toEqual(["unknown-key"])
        expect(at(problemsOf(b => (b.jacdac.pin = 45), "charger_esp32s3"), "/jacdac/pin")).toEqual(["strapping-pin-bus"])
        expect(at(problemsOf(b => (b.jacdac.pin = 8), "charger_esp32s3"), "/jacdac/pin")).toEqual(["duplicate-pin"]) // also the spare label P8
        expect(at(problemsOf(b => (b.jacdac.pin = "P8"), "charger_esp32s3"), "/jacdac/pin")).toEqual([])
    })

    it("an unknown service type", () => {
        const ps = problemsOf(b => (b.services[4].service = "beeper"))
        expect(at(ps, "/services/4/service")).toEqual(["unknown-service"])
    })

    it("duplicate pins, across sections", () => {
        const ps = problemsOf(b => (b.$charger.gridRelay.pin = 26)) // outlet1Relay's pin
        expect(at(ps, "/$charger/gridRelay/pin")).toEqual(["duplicate-pin"])
        expect(ps.find(p => p.rule === "duplicate-pin").message).toContain("/services/0/pin")
    })

    it("outputs on ESP32 input-only pins (GPIO34-39); inputs there are fine", () => {
        const ps = problemsOf(b => {
            b.services[0].pin = 34
            b.services[0].pinFeedback = 14
            b.pins = {}
            b.led.pin = 39
        })
        expect(at(ps, "/services/0/pin")).toEqual(["input-only-pin"])
        expect(at(ps, "/led/pin")).toEqual(["input-only-pin"])
        expect(at(problemsOf(() => {}), "/services/0/pinFeedback")).toEqual([]) // GPIO34 as feedback input
    })

    it.each([
        ["charger_esp32", [0, 2, 5, 12, 15]],
        ["charger_esp32s3", [0, 3, 45, 46]],
    ] as [string, number[]][])("strapping pins driving an output on %s", (id, straps) => {
        for (const pin of straps) {
            const ps = problemsOf(b => {
                b.pins = {}
                b.services[4].pin = pin // the alarm buzzer
            }, id)
            expect(at(ps, "/services/4/pin")).toEqual(["strapping-pin-output"])
        }
        // as an input (the e-stop button) a strapping pin is not this rule's business
        const ps = problemsOf(b => {
            b.pins = {}
            b.services[3].pin = straps[1]
        }, id)
        expect(ps.filter(p => p.rule === "strapping-pin-output")).toEqual([])
    })

    it("ESP32-C3 strapping pins (2, 8, 9) and pins it lacks", () => {
        expect(CHIPS.esp32c3.strapping).toEqual([2, 8, 9])
        const ps = problemsOf(b => {
            b.archId = "esp32c3"
            b.pins = {}
            b.log.pinTX = 21
            b.led.pin = 8
        })
        expect(at(ps, "/led/pin")).toEqual(["strapping-pin-output"])
        expect(at(ps, "/services/0/pinFeedback")).toEqual(["no-such-pin"]) // GPIO34
    })

    it("ADC2 pins as analog inputs (Wi-Fi owns ADC2); ADC1 is fine", () => {
        const ps = problemsOf(b => {
            b.pins = { AUX: 14 }
            b.services.push({ service: "analog:potentiometer", name: "aux12V", pin: "AUX" }) // by label
        })
        expect(at(ps, "/services/5/pin")).toEqual(["adc2-with-wifi"])
        const plain = problemsOf(b => {
            b.pins = {}
            b.services.push({ service: "analog:potentiometer", name: "aux12V", pin: 14 })
        })
        expect(at(plain, "/services/5/pin")).toEqual(["adc2-with-wifi"])
        const numbered = problemsOf(b => b.services.push({ service: "analog:potentiometer", name: "aux12V", pin: 14 }))
        expect(at(numbered, "/services/5/pin")).toEqual(["adc2-with-wifi", "duplicate-pin"]) // 14 is the spare label P14
        const s3 = problemsOf(b => b.services.push({ service: "analog:potentiometer", name: "aux12V", pin: 13 }), "charger_esp32s3")
        expect(at(s3, "/services/5/pin")).toEqual(["adc2-with-wifi", "duplicate-pin"]) // 13 is also the spare label P13
        const ok = problemsOf(b => {
            b.services[0].pinFeedback = 14
            b.pins = {}
            b.services.push({ service: "analog:potentiometer", name: "aux12V", pin: 34 })
        })
        expect(ok).toEqual([])
    })

    it("pins that do not exist on the chip, and flash pins", () => {
        const ps = problemsOf(b => {
            b.services[0].pin = 24
            b.services[1].pin = 40
            b.services[2].pin = 7
        })
        expect(at(ps, "/services/0/pin")).toEqual(["no-such-pin"])
        expect(at(ps, "/services/1/pin")).toEqual(["no-such-pin"])
        expect(at(ps, "/services/2/pin")).toEqual(["flash-pin"])
        const s3 = problemsOf(b => (b.services[0].pin = 23), "charger_esp32s3")
        expect(at(s3, "/services/0/pin")).toEqual(["no-such-pin"])
    })

    it("calibration and I2C entries of $charger: required, positive, known chip, 7-bit address", () => {
        const ps = problemsOf(b => {
            delete b.$charger.dcMonitor.shuntOhms
            b.$charger.outletMeter.outlet2.burdenOhms = 0
            b.$charger.heatsinkTemp.chip = "lm75"
            b.$charger.heatsinkTemp.address = 0x90
            delete b.$charger.gridRelay
        })
        expect(at(ps, "/$charger/dcMonitor/shuntOhms")).toEqual(["required-key"])
        expect(at(ps, "/$charger/outletMeter/outlet2/burdenOhms")).toEqual(["bad-value"])
        expect(at(ps, "/$charger/heatsinkTemp/chip")).toEqual(["unknown-chip"])
        expect(at(ps, "/$charger/heatsinkTemp/address")).toEqual(["bad-value"])
        expect(at(ps, "/$charger/gridRelay")).toEqual(["required-key"])
    })

    it("a relay that closes at boot", () => {
        const ps = problemsOf(b => (b.services[1].initalActive = true))
        expect(at(ps, "/services/1/initalActive")).toEqual(["relay-on-at-boot"])
        expect(problemsOf(b => (b.services[1].initalActive = false))).toEqual([])
    })

    it("wrong value types and an unknown chip family", () => {
        const ps = problemsOf(b => {
            b.i2c.kHz = "400"
            b.services[0].maxCurrent = 1.5
            b.archId = "esp8266"
        })
        expect(at(ps, "/i2c/kHz")).toEqual(["bad-type"])
        expect(at(ps, "/services/0/maxCurrent")).toEqual(["bad-type"])
        expect(at(ps, "/archId")).toEqual(["unknown-chip"])
    })
})

describe("calibration checks of the chip drivers (gen-boards)", () => {
    it("accepts the shipped boards' calibration", () => {
        for (const id of BOARD_IDS) expect(calibrationProblems(shipped(id))).toEqual([])
    })
    it("names the section whose calibration a driver refuses", () => {
        const b = shipped("charger_esp32")
        b.$charger.dcMonitor.shuntOhms = 0.002 // 200 A * 2 mOhm = 400 mV > 163.84 mV
        const ps = calibrationProblems(b)
        expect(ps).toHaveLength(1)
        expect(ps[0].path).toBe("/$charger/dcMonitor")
        expect(ps[0].message).toMatch(/exceeds the 163.84 mV shunt range/)
    })
})

describe("npm run check:boards", () => {
    const run = (...args: string[]) =>
        spawnSync(process.execPath, ["--import", "tsx", "scripts/check-boards.ts", ...args], { cwd: ROOT, encoding: "utf8" })

    it("passes the shipped boards", () => {
        const r = run()
        expect(r.stdout).toContain("2 board file(s) valid")
        expect(r.status).toBe(0)
    })

    it("reports every problem of a bad file with file, key path and rule, and exits 1", () => {
        const r = run("tests/fixtures/boards/bad-many.board.json", "boards/charger_esp32.board.json")
        expect(r.status).toBe(1)
        const lines = r.stderr.trim().split("\n")
        const f = "tests/fixtures/boards/bad-many.board.json"
        expect(lines).toEqual(
            expect.arrayContaining([
                expect.stringMatching(new RegExp(`^${f}: /i2c/khz: unknown key .*\\[unknown-key\\]$`)),
                expect.stringMatching(new RegExp(`^${f}: /services/0/pin: GPIO34 is input-only .*\\[input-only-pin\\]$`)),
                expect.stringMatching(new RegExp(`^${f}: /services/0/pinFeedbak: .*\\[unknown-key\\]$`)),
                expect.stringMatching(new RegExp(`^${f}: /services/1/pin: GPIO12 is a strapping pin .*\\[strapping-pin-output\\]$`)),
                expect.stringMatching(new RegExp(`^${f}: /services/1/pinFeedback: GPIO21 is already used by /i2c/pinSDA \\[duplicate-pin\\]$`)),
            ]),
        )
        expect(r.stdout).toContain("boards/charger_esp32.board.json: ok")
        expect(r.stderr).toContain("1 of 2 board file(s) invalid")
    })

    it("names a file that is not JSON, and a missing file", () => {
        const r = run("tests/fixtures/boards/not-json.board.json")
        expect(r.status).toBe(1)
        expect(r.stderr).toMatch(/not-json\.board\.json: \/: not valid JSON/)
        const m = run("boards/nope.board.json")
        expect(m.status).toBe(2)
        expect(m.stderr).toContain("boards/nope.board.json: file not found")
    })
})
