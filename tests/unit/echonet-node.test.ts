// The ECHONET Lite node (gateway/echonet/node.ts + mapping.ts) against a fake charger: what each
// request is answered with, what goes to the firmware as a command, offline behaviour,
// notifications. The UDP and MQTT sides are covered by the end-to-end test (tests/sim/echonet-e2e.test.ts).
import { describe, expect, it } from "vitest"
import { decodeFrame, encodeFrame, ESV, type Frame, type Property } from "../../gateway/echonet/frame"
import { MODE } from "../../gateway/echonet/mapping"
import { EchonetNode, type CommandResult, type Peer } from "../../gateway/echonet/node"
import { CHARGER_EOJ, CHARGER_PROPERTIES, NODE_PROFILE_EOJ, readPropertyMap, readS32, readU32, s32, u32 } from "../../gateway/echonet/properties"
import { DEVS } from "../../src/config/devs.gen"
import { parseCommand } from "../../src/core/hems/command"
import { chargerStatus } from "./echonet-fixtures"

const CONTROLLER = 0x05ff01
const peer: Peer = { address: "10.0.0.2", port: 3610 }

function setup(opts: { online?: boolean; status?: any; verdict?: (cmd: any) => CommandResult } = {}) {
    const view = { online: opts.online ?? true, status: opts.status === undefined ? chargerStatus() : opts.status }
    const sent: { frame: Frame; to: Peer | null }[] = []
    const commands: any[] = []
    const node = new EchonetNode(
        { manufacturerCode: 0xffffff, uniqueId: new Uint8Array(13).fill(7), batteryWh: 40000 },
        {
            view: () => view,
            send: (bytes, to) => {
                const d = decodeFrame(bytes)
                if (!d.ok) throw new Error("the node sent a malformed frame")
                sent.push({ frame: d.frame, to })
            },
            command: async cmd => {
                commands.push(cmd)
                // The firmware's own validator decides, as on the charger.
                if (opts.verdict) return opts.verdict(cmd)
                const e = parseCommand(JSON.stringify(cmd), DEVS).error
                return e ? { ok: false, why: e } : { ok: true, why: "" }
            },
            log: () => {},
        },
    )
    const request = async (esv: number, props: Property[], deoj = CHARGER_EOJ, tid = 42) => {
        sent.length = 0
        await node.receive(encodeFrame({ tid, seoj: CONTROLLER, deoj, esv, props }), peer)
        return sent.slice()
    }
    const get = (...epcs: number[]) => request(ESV.Get, epcs.map(epc => ({ epc, edt: new Uint8Array(0) })))
    return { node, view, sent, commands, request, get }
}

const edtOf = (f: Frame, epc: number) => f.props.find(p => p.epc === epc)?.edt
const one = (b: number) => Uint8Array.of(b)

describe("Get", () => {
    it("answers from the status: SoC, Wh, powers with the class's sign, vehicle, type, energies, mode", async () => {
        const { get } = setup()
        const [r] = await get(0xe4, 0xe2, 0xc2, 0xc4, 0xc5, 0xc6, 0xd3, 0xc7, 0xcc, 0xd6, 0xd8, 0xda, 0xe1, 0x80, 0x88, 0xdb, 0xca)
        expect(r.to).toEqual(peer)
        expect(r.frame).toMatchObject({ tid: 42, seoj: CHARGER_EOJ, deoj: CONTROLLER, esv: ESV.Get_Res })
        const f = r.frame
        expect(edtOf(f, 0xe4)).toEqual(one(65)) // 64.96 % (status rounds to 0.1: 65.0)
        expect(readU32(edtOf(f, 0xe2)!)).toBe(26000) // 65 % of 40 kWh
        expect(readU32(edtOf(f, 0xc2)!)).toBe(14000) // (65 - 30 reserve) % of 40 kWh
        expect(edtOf(f, 0xc4)).toEqual(one(50)) // 35 of the 70 points above the reserve
        expect(readU32(edtOf(f, 0xc5)!)).toBe(DEVS.v2h.ratedPowerW)
        expect(readU32(edtOf(f, 0xc6)!)).toBe(DEVS.v2h.ratedPowerW)
        expect(readS32(edtOf(f, 0xd3)!)).toBe(1500) // the inverter charges 1500 W: + in ECHONET Lite
        expect(edtOf(f, 0xc7)).toEqual(one(0x43)) // chargeable and dischargeable
        expect(edtOf(f, 0xcc)).toEqual(one(0x22)) // DC type AA, charge and discharge
        expect(readU32(edtOf(f, 0xd6)!)).toBe(12345)
        expect(readU32(edtOf(f, 0xd8)!)).toBe(678) // whole Wh, rounded down (a total_increasing counter never runs ahead)
        expect(edtOf(f, 0xda)).toEqual(one(MODE.idle)) // the firmware's default mode is idle
        expect(edtOf(f, 0x80)).toEqual(one(0x30))
        expect(edtOf(f, 0x88)).toEqual(one(0x42)) // no fault
        expect(edtOf(f, 0xdb)).toEqual(one(DEVS.v2h.reverseFlowAllowed ? 0x00 : 0x02))
        expect(Array.from(edtOf(f, 0xca)!)).toEqual([0, 0, 0x03, 0x20]) // 0..80.0 A in 0.1 A
    })

    it("the operation mode follows the firmware mode and the setpoint's sign", async () => {
        const cases: [any, number][] = [
            [{ mode: "setpoint", setpoint_w: 3000 }, MODE.discharge],
            [{ mode: "setpoint", setpoint_w: -2000 }, MODE.charge],
            [{ mode: "setpoint", setpoint_w: 0 }, MODE.standby],
            [{ mode: "idle" }, MODE.idle],
            [{ mode: "self_consumption" }, MODE.automatic],
            [{ mode: "schedule" }, MODE.automatic],
        ]
        for (const [over, code] of cases) {
            const [r] = await setup({ status: chargerStatus(over) }).get(0xda)
            expect(edtOf(r.frame, 0xda), JSON.stringify(over)).toEqual(one(code))
        }
        const [r] = await setup({ status: chargerStatus({ state: "discharging" }) }).get(0xe1)
        expect(edtOf(r.frame, 0xe1)).toEqual(one(MODE.discharge))
    })

    it("an unknown or not readable property makes it Get_SNA: the others answered, that one with PDC 0", async () => {
        const [r] = await setup().get(0xe4, 0x99, 0xcd)
        expect(r.frame.esv).toBe(ESV.Get_SNA)
        expect(r.frame.props).toEqual([
            { epc: 0xe4, edt: one(65) },
            { epc: 0x99, edt: new Uint8Array(0) },
            { epc: 0xcd, edt: new Uint8Array(0) }, // Set only
        ])
    })

    it("property maps list exactly the table (both encodings: list and bitmap)", async () => {
        const [r] = await setup().get(0x9d, 0x9e, 0x9f)
        const ids = (acc: "get" | "set" | "inf") => CHARGER_PROPERTIES.filter(s => s[acc]).map(s => s.epc).sort((a, b) => a - b)
        expect(readPropertyMap(edtOf(r.frame, 0x9d)!)).toEqual(ids("inf"))
        expect(readPropertyMap(edtOf(r.frame, 0x9e)!)).toEqual(ids("set"))
        expect(edtOf(r.frame, 0x9f)!.length).toBe(17) // more than 15 properties: the bitmap form
        expect(readPropertyMap(edtOf(r.frame, 0x9f)!)).toEqual(ids("get"))
        expect(ids("inf")).toEqual(expect.arrayContaining([0x80, 0xc7, 0xda, 0xe1]))
    })

    it("the node profile: instance list, classes, version; instance code 0 addresses every instance", async () => {
        const s = setup()
        const [r] = await s.request(ESV.Get, [0xd6, 0xd3, 0xd4, 0xd7, 0x82].map(epc => ({ epc, edt: new Uint8Array(0) })), 0x0ef000)
        expect(r.frame.seoj).toBe(NODE_PROFILE_EOJ)
        expect(Array.from(edtOf(r.frame, 0xd6)!)).toEqual([1, 0x02, 0x7e, 0x01])
        expect(Array.from(edtOf(r.frame, 0xd3)!)).toEqual([0, 0, 1])
        expect(Array.from(edtOf(r.frame, 0xd4)!)).toEqual([0, 2])
        expect(Array.from(edtOf(r.frame, 0xd7)!)).toEqual([1, 0x02, 0x7e])
        const [c] = await s.request(ESV.Get, [{ epc: 0xe4, edt: new Uint8Array(0) }], 0x027e00)
        expect(c.frame.seoj).toBe(CHARGER_EOJ)
        expect(await s.request(ESV.Get, [{ epc: 0x80, edt: new Uint8Array(0) }], 0x013001)).toEqual([]) // an air conditioner: not here
    })

    it("offline (last will): what it cannot know is SNA, operation status OFF, vehicle unknown", async () => {
        const [r] = await setup({ online: false }).get(0x80, 0xc7, 0xe4, 0xd3, 0xda, 0xcc)
        expect(r.frame.esv).toBe(ESV.Get_SNA)
        expect(r.frame.props).toEqual([
            { epc: 0x80, edt: one(0x31) },
            { epc: 0xc7, edt: one(0x44) },
            { epc: 0xe4, edt: new Uint8Array(0) },
            { epc: 0xd3, edt: new Uint8Array(0) },
            { epc: 0xda, edt: new Uint8Array(0) },
            { epc: 0xcc, edt: one(0x22) }, // a fact of this unit, not of its state
        ])
        const [n] = await setup({ online: true, status: chargerStatus({ soc_pct: null }) }).get(0xe4)
        expect(n.frame.esv).toBe(ESV.Get_SNA) // no battery reading yet
    })

    it("INF_REQ is answered by INF to everyone; a property it cannot give by INF_SNA to the requester", async () => {
        const s = setup()
        const [r] = await s.request(ESV.INF_REQ, [{ epc: 0xda, edt: new Uint8Array(0) }])
        expect(r.to).toBeNull()
        expect(r.frame).toMatchObject({ esv: ESV.INF, tid: 42, seoj: CHARGER_EOJ, deoj: NODE_PROFILE_EOJ })
        const [x] = await s.request(ESV.INF_REQ, [{ epc: 0x12, edt: new Uint8Array(0) }])
        expect(x.to).toEqual(peer)
        expect(x.frame.esv).toBe(ESV.INF_SNA)
    })
})

describe("Set", () => {
    it("operation mode discharge with a discharge power: ONE command, Set_Res with PDC 0", async () => {
        const s = setup()
        const out = await s.request(ESV.SetC, [
            { epc: 0xda, edt: one(MODE.discharge) },
            { epc: 0xec, edt: u32(3000) },
        ])
        expect(s.commands).toEqual([{ mode: "setpoint", setpoint_w: 3000 }])
        expect(out[0].frame).toMatchObject({ esv: ESV.Set_Res, tid: 42, props: [{ epc: 0xda, edt: new Uint8Array(0) }, { epc: 0xec, edt: new Uint8Array(0) }] })
        expect(out[0].to).toEqual(peer)
    })

    it("each mode maps onto the charger's own command", async () => {
        const cases: [number, any][] = [
            [MODE.charge, { mode: "setpoint", setpoint_w: -DEVS.v2h.ratedPowerW }],
            [MODE.discharge, { mode: "setpoint", setpoint_w: DEVS.v2h.ratedPowerW }],
            [MODE.standby, { mode: "setpoint", setpoint_w: 0 }],
            [MODE.idle, { mode: "idle" }],
            [MODE.automatic, { mode: "self_consumption" }],
        ]
        for (const [code, cmd] of cases) {
            const s = setup()
            await s.request(ESV.SetC, [{ epc: 0xda, edt: one(code) }])
            expect(s.commands).toEqual([cmd])
        }
        const s = setup()
        await s.request(ESV.SetC, [{ epc: 0xe0, edt: s32(-2500) }]) // - = discharge in ECHONET Lite
        expect(s.commands).toEqual([{ mode: "setpoint", setpoint_w: 2500 }])
    })

    it("the firmware refuses (out of range): SetC_SNA echoing every property, nothing held", async () => {
        const s = setup()
        const props = [
            { epc: 0xda, edt: one(MODE.discharge) },
            { epc: 0xec, edt: u32(DEVS.v2h.ratedPowerW + 1) },
        ]
        const [r] = await s.request(ESV.SetC, props)
        expect(s.commands).toEqual([{ mode: "setpoint", setpoint_w: DEVS.v2h.ratedPowerW + 1 }]) // the firmware decided
        expect(r.frame).toMatchObject({ esv: ESV.SetC_SNA, props })
        const [g] = await s.get(0xec)
        expect(readU32(edtOf(g.frame, 0xec)!)).toBe(DEVS.v2h.ratedPowerW) // the refused value was not kept
    })

    it("what cannot be translated is refused before the firmware: bad code, length, not settable, offline", async () => {
        const bad: Property[][] = [
            [{ epc: 0xda, edt: one(0x41) }], // "rapid charge" of old Releases
            [{ epc: 0xda, edt: one(MODE.other) }],
            [{ epc: 0xda, edt: Uint8Array.of(0x43, 0x00) }],
            [{ epc: 0xe4, edt: one(50) }],
            [{ epc: 0xda, edt: one(MODE.discharge) }, { epc: 0xe0, edt: s32(100) }],
            [{ epc: 0xda, edt: one(MODE.discharge) }, { epc: 0xda, edt: one(MODE.charge) }],
        ]
        for (const props of bad) {
            const s = setup()
            const [r] = await s.request(ESV.SetC, props)
            expect(r.frame, JSON.stringify(props)).toMatchObject({ esv: ESV.SetC_SNA, props })
            expect(s.commands).toEqual([])
        }
        const s = setup({ online: false })
        const [r] = await s.request(ESV.SetC, [{ epc: 0xda, edt: one(MODE.idle) }])
        expect(r.frame.esv).toBe(ESV.SetC_SNA)
        expect(s.commands).toEqual([])
    })

    it("a power setting alone: sent when the charger goes that way now, else held for the next mode Set", async () => {
        const s = setup({ status: chargerStatus({ mode: "setpoint", setpoint_w: 2000 }) })
        await s.request(ESV.SetC, [{ epc: 0xec, edt: u32(3500) }])
        expect(s.commands).toEqual([{ mode: "setpoint", setpoint_w: 3500 }])
        const [r] = await s.request(ESV.SetC, [{ epc: 0xeb, edt: u32(1200) }]) // not charging: held
        expect(r.frame.esv).toBe(ESV.Set_Res)
        expect(s.commands.length).toBe(1)
        const [g] = await s.get(0xeb)
        expect(readU32(edtOf(g.frame, 0xeb)!)).toBe(1200)
        await s.request(ESV.SetC, [{ epc: 0xda, edt: one(MODE.charge) }])
        expect(s.commands[1]).toEqual({ mode: "setpoint", setpoint_w: -1200 })
        const [x] = await s.request(ESV.SetC, [{ epc: 0xeb, edt: u32(DEVS.v2h.ratedPowerW + 1) }]) // held, but out of range
        expect(x.frame.esv).toBe(ESV.SetC_SNA)
    })

    it("SetI: no answer when done, SetI_SNA when refused; SetGet: SetGet_SNA, nothing applied", async () => {
        const s = setup()
        expect(await s.request(ESV.SetI, [{ epc: 0xda, edt: one(MODE.idle) }])).toEqual([])
        expect(s.commands).toEqual([{ mode: "idle" }])
        const [r] = await s.request(ESV.SetI, [{ epc: 0xda, edt: one(0x99) }])
        expect(r.frame.esv).toBe(ESV.SetI_SNA)
        s.sent.length = 0
        await s.node.receive(
            encodeFrame({ tid: 9, seoj: CONTROLLER, deoj: CHARGER_EOJ, esv: ESV.SetGet, props: [{ epc: 0xda, edt: one(MODE.idle) }], getProps: [{ epc: 0xe4, edt: new Uint8Array(0) }] }),
            peer,
        )
        expect(s.sent[0].frame).toMatchObject({ esv: ESV.SetGet_SNA, tid: 9 })
        expect(s.commands.length).toBe(1)
    })
})

describe("announcements and notifications", () => {
    it("start-up: INF of the instance list from the node profile, to everyone", () => {
        const s = setup()
        s.node.announce()
        expect(s.sent).toEqual([{ to: null, frame: expect.objectContaining({ esv: ESV.INF, seoj: NODE_PROFILE_EOJ, deoj: NODE_PROFILE_EOJ, props: [{ epc: 0xd5, edt: Uint8Array.of(1, 0x02, 0x7e, 0x01) }] }) }])
    })

    it("a change of operation status, vehicle, mode or actual mode is notified once, in one INF", () => {
        const s = setup()
        s.node.announce()
        s.sent.length = 0
        s.node.statusChanged()
        expect(s.sent).toEqual([]) // nothing changed
        s.view.status = chargerStatus({ mode: "setpoint", setpoint_w: 3000, state: "discharging" })
        s.node.statusChanged()
        expect(s.sent.length).toBe(1)
        expect(s.sent[0].to).toBeNull()
        expect(s.sent[0].frame).toMatchObject({ esv: ESV.INF, seoj: CHARGER_EOJ, deoj: NODE_PROFILE_EOJ, props: [{ epc: 0xda, edt: one(MODE.discharge) }, { epc: 0xe1, edt: one(MODE.discharge) }] })
        s.node.statusChanged()
        expect(s.sent.length).toBe(1)
        s.view.online = false // the last will
        s.node.statusChanged()
        expect(s.sent[1].frame.props).toEqual([
            { epc: 0x80, edt: one(0x31) },
            { epc: 0xc7, edt: one(0x44) },
        ])
    })
})
