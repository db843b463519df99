// The HIL bench's pure parts: the jdusb codec, the role plan and its refusals, the arguments, --until.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { parseHilArgs } from "../../hil/args"
import { JdUsbDecoder, USB_BRIDGE_CMD, bridgeCommand, bridgeCommandOf, encodeFrame, encodeText, withCrc } from "../../hil/jdusb"
import { boardTargets, checkBindings, type RoleBinding, type RoleTarget } from "../../hil/roles"
import { cutScenario } from "../../hil/until"
import { parseHubUrl } from "../../hil/link"
import { loadScenario } from "../../sim/scenario/load"
import { join } from "node:path"
import { ROOT } from "../../scripts/lib/devs-config"

/** A valid Jacdac frame with `n` payload bytes (n a multiple of 4 >= 4). */
function frame(payload: number[]): Uint8Array {
    const f = new Uint8Array(12 + payload.length)
    f[2] = payload.length
    f.set([0x12, 0xfe, 0x34, 0xfe, 0x56, 0x78, 0x9a, 0xbc], 4)
    f.set(payload, 12)
    return withCrc(f)
}
const payloadArb = fc.integer({ min: 1, max: 60 }).chain(k => fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4 * k, maxLength: 4 * k }))

describe("jdusb framing", () => {
    it("frames and log text survive any chunking, 0xFE included", () => {
        fc.assert(
            fc.property(fc.array(payloadArb, { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1 }), (payloads, cuts) => {
                const frames = payloads.map(frame)
                const stream = Buffer.concat(frames.flatMap((f, i) => [Buffer.from(encodeText(`log line ${i} \u00fe\n`)), Buffer.from(encodeFrame(f))]))
                const got: Uint8Array[] = []
                const logs: string[] = []
                const d = new JdUsbDecoder(f => got.push(f), l => logs.push(l))
                let i = 0
                for (let c = 0; i < stream.length; c++) {
                    const n = cuts[c % cuts.length]
                    d.push(stream.subarray(i, i + n))
                    i += n
                }
                expect(got.map(f => Buffer.from(f).toString("hex"))).toEqual(frames.map(f => Buffer.from(f).toString("hex")))
                expect(logs).toEqual(frames.map((_, k) => `log line ${k} \u00fe`))
                expect(d.stats).toMatchObject({ frames: frames.length, badFrames: 0, framingErrors: 0 })
            }),
            { numRuns: 200 },
        )
    })

    it("counts a corrupted frame, a cut frame and the device's skipped-frames marker, and keeps going", () => {
        const good = frame([1, 2, 3, 4])
        const bad = encodeFrame(frame([5, 6, 7, 8]))
        bad[6] ^= 0xff // payload byte flipped: CRC fails
        const cut = encodeFrame(frame([9, 9, 9, 9])).subarray(0, 8)
        const got: Uint8Array[] = []
        const d = new JdUsbDecoder(f => got.push(f))
        // Joining midway: the tail of a frame before the first good one is not a loss.
        d.push(encodeFrame(frame([1, 1, 1, 1])).subarray(5))
        d.push(Buffer.concat([encodeFrame(good), bad, cut, encodeFrame(good), Uint8Array.from([0xfe, 0xfb]), encodeFrame(good)]))
        expect(got).toHaveLength(3)
        expect(d.stats).toMatchObject({ frames: 3, badFrames: 1, framingErrors: 1, frameGaps: 1, beforeSync: 1 })
    })

    it("USB-bridge commands are recognised and are not Jacdac traffic", () => {
        expect(bridgeCommandOf(bridgeCommand(USB_BRIDGE_CMD.enablePackets))).toBe(0x81)
        expect(bridgeCommandOf(frame([0, 0, 0x81, 0]))).toBeUndefined()
    })
})

const PLANT = "5151a4e0cafe0001"
const BOARD = "aaaabbbbccccdddd"
const plan = new Map<string, RoleTarget>([
    ["outlet1Meter", { deviceId: PLANT, serviceIndex: 3, what: "bench outlet 1 meter" }],
    ["battery", { deviceId: PLANT, serviceIndex: 7, what: "bench traction battery" }],
])
const b = (role: string, deviceId: string, serviceIndex: number, serviceClass = 1): RoleBinding => ({ role, deviceId, serviceIndex, serviceClass })

describe("role plan", () => {
    it("accepts bench roles on their servers and other roles on the board's side", () => {
        expect(checkBindings([b("outlet1Meter", PLANT, 3), b("battery", PLANT, 7), b("Settings0", BOARD, 4)], plan, new Set([PLANT]))).toEqual([])
    })

    it("names every role bound elsewhere, why, and where it must be", () => {
        const ps = checkBindings(
            [b("outlet1Meter", BOARD, 2), b("battery", "", -1), b("heatsinkTemp", "", -1, 0x1421bac7), b("dcLink", PLANT, 9)],
            plan,
            new Set([PLANT]),
        )
        expect(ps).toEqual([
            { role: "outlet1Meter", message: `bound to ${BOARD}:2 (a server on the board's side), must be the bench outlet 1 meter (${PLANT}:3)` },
            { role: "battery", message: `bound to nothing, must be the bench traction battery (${PLANT}:7)` },
            { role: "heatsinkTemp", message: "unbound: the bench does not model service class 0x1421bac7 and nothing on the board serves it" },
            { role: "dcLink", message: `bound to the host's ${PLANT}:9, which the bench does not plan for this role` },
        ])
    })

    it("an unbound board role goes to the one board-side server of its class; two candidates are ambiguous", () => {
        const one = boardTargets([b("Settings0", "", -1, 0x1107dc4a)], [{ deviceId: BOARD, serviceIndex: 4, serviceClass: 0x1107dc4a }], plan, new Set([PLANT]))
        expect(one.targets.get("Settings0")).toMatchObject({ deviceId: BOARD, serviceIndex: 4 })
        const two = boardTargets(
            [b("heatsinkTemp", "", -1, 7)],
            [
                { deviceId: BOARD, serviceIndex: 4, serviceClass: 7 },
                { deviceId: "1111222233334444", serviceIndex: 1, serviceClass: 7 },
                { deviceId: PLANT, serviceIndex: 9, serviceClass: 7 },
            ],
            plan,
            new Set([PLANT]),
        )
        expect(two.targets.size).toBe(0)
        expect(two.ambiguous[0].message).toContain("2 servers of class 0x7 on the board's side")
    })
})

describe("npm run hil arguments", () => {
    it("refuses what it cannot run, naming the value", () => {
        expect(parseHilArgs([])).toContain("one scenario file expected")
        expect(parseHilArgs(["s.json"])).toContain("exactly one of --port")
        expect(parseHilArgs(["s.json", "--port", "/dev/x", "--hub", "tcp://h:1"])).toContain("exactly one of --port")
        expect(parseHilArgs(["s.json", "--port", "/dev/x", "--until", "soon"])).toBe('--until "soon": must be a number of seconds > 0')
        expect(parseHilArgs(["s.json", "--port", "/dev/x", "--speed", "max"])).toContain("--speed")
        expect(parseHubUrl("http://h:1")).toContain("is not tcp://HOST:PORT")
        expect(parseHubUrl("tcp://h:70000")).toContain("out of range")
        expect(parseHubUrl("tcp://127.0.0.1:4567")).toEqual({ host: "127.0.0.1", port: 4567 })
    })

    it("--until drops later events and skips expectations whose window ends later", () => {
        const s = loadScenario(join(ROOT, "sim", "scenarios", "v2h-setpoint.json"))
        const { scenario, skipped } = cutScenario(s, 70)
        expect(scenario.durationS).toBe(70)
        expect(scenario.events.every(e => e.atS <= 70)).toBe(true)
        expect(skipped.map(e => e.name)).toEqual(["10-s mean within 50 W of -2 kW"])
        expect(scenario.expectations).toHaveLength(s.expectations.length - 1)
        expect(cutScenario(s, 500).scenario).toBe(s)
    })
})
