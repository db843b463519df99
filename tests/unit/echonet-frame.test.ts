// The ECHONET Lite frame codec (gateway/echonet/frame.ts) and the node's handling of malformed
// frames, fuzzed with fast-check: random bytes, valid frames and valid frames mutated (header,
// ESV, OPC, PDC, truncation, trailing bytes). Nothing may throw; a malformed frame gets no
// answer; every answer the node sends is itself a well-formed response to the request.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { decodeFrame, encodeFrame, ESV, KNOWN_ESVS, type Frame } from "../../gateway/echonet/frame"
import { EchonetNode, type Peer } from "../../gateway/echonet/node"
import { CHARGER_EOJ, NODE_PROFILE_EOJ } from "../../gateway/echonet/properties"
import { chargerStatus } from "./echonet-fixtures"

const RUNS = Number(process.env.FC_RUNS ?? 3000)
const CONTROLLER = 0x05ff01
const from: Peer = { address: "10.0.0.2", port: 3610 }

const propArb = fc.record({ epc: fc.integer({ min: 0, max: 255 }), edt: fc.uint8Array({ maxLength: 12 }) })
const eojArb = fc.oneof(fc.constantFrom(CHARGER_EOJ, NODE_PROFILE_EOJ, 0x027e00, 0x0ef000, CONTROLLER), fc.integer({ min: 0, max: 0xffffff }))
/** Mostly addressed to this node, so that most frames reach the request handling. */
const deojArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(CHARGER_EOJ, NODE_PROFILE_EOJ, 0x027e00, 0x0ef000) }, { weight: 1, arbitrary: eojArb })
const esvArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(ESV.Get, ESV.SetC, ESV.SetI, ESV.INF_REQ, ESV.SetGet) }, { weight: 1, arbitrary: fc.constantFrom(...KNOWN_ESVS) })
/** EPCs this node has, mostly, and any. */
const epcArb = fc.oneof(fc.constantFrom(0x80, 0x9f, 0xc7, 0xd3, 0xd6, 0xda, 0xe0, 0xe4, 0xeb, 0xec, 0xd5, 0xd6), fc.integer({ min: 0, max: 255 }))
const frameArb: fc.Arbitrary<Frame> = fc
    .record({
        tid: fc.integer({ min: 0, max: 0xffff }),
        seoj: eojArb,
        deoj: eojArb,
        esv: fc.constantFrom(...KNOWN_ESVS),
        props: fc.array(propArb, { maxLength: 6 }),
        getProps: fc.array(propArb, { maxLength: 4 }),
    })
    .map(f => {
        const setget = f.esv === ESV.SetGet || f.esv === ESV.SetGet_Res || f.esv === ESV.SetGet_SNA
        const { getProps, ...rest } = f
        return setget ? { ...rest, getProps } : rest
    })

const requestPropArb = fc.record({ epc: epcArb, edt: fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 1, maxLength: 4 }), fc.uint8Array({ maxLength: 12 })) })
const requestArb: fc.Arbitrary<Frame> = fc
    .record({
        tid: fc.integer({ min: 0, max: 0xffff }),
        seoj: eojArb,
        deoj: deojArb,
        esv: esvArb,
        props: fc.array(requestPropArb, { maxLength: 5 }),
        getProps: fc.array(requestPropArb, { maxLength: 3 }),
    })
    .map(f => {
        const { getProps, ...rest } = f
        return f.esv === ESV.SetGet || f.esv === ESV.SetGet_Res || f.esv === ESV.SetGet_SNA ? { ...rest, getProps } : rest
    })

/** A valid frame, then one mutation of the kinds the issue names. */
const mutatedArb = fc.tuple(fc.oneof(frameArb, requestArb), fc.integer({ min: 0, max: 7 }), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([f, kind, at, byte]) => {
    const b = Array.from(encodeFrame(f))
    switch (kind) {
        case 0: // header byte
            b[at % 2] = byte === b[at % 2] ? byte ^ 1 : byte
            break
        case 1: // ESV
            b[10] = byte
            break
        case 2: // property count
            b[11] = byte
            break
        case 3: // a PDC (or any byte after the header)
            if (b.length > 12) b[12 + (at % (b.length - 12))] = byte
            else b.push(byte)
            break
        case 4: // truncated
            b.length = at % b.length
            break
        case 5: // trailing bytes
            b.push(byte, at & 0xff)
            break
        case 6: // random byte anywhere
            b[at % b.length] = byte
            break
        default: // spliced with itself
            return Uint8Array.from([...b.slice(0, at % b.length), ...b])
    }
    return Uint8Array.from(b)
})

function fakeNode() {
    const sent: { bytes: Uint8Array; to: Peer | null }[] = []
    const commands: any[] = []
    const logs: string[] = []
    const node = new EchonetNode(
        { manufacturerCode: 0xffffff, uniqueId: new Uint8Array(13), batteryWh: 40000 },
        {
            view: () => ({ online: true, status: chargerStatus() }),
            send: (bytes, to) => sent.push({ bytes, to }),
            command: async cmd => {
                commands.push(cmd)
                return { ok: true, why: "" }
            },
            log: l => logs.push(l),
        },
    )
    return { node, sent, commands, logs }
}

const RESPONSE_TO: Record<number, number[]> = {
    [ESV.Get]: [ESV.Get_Res, ESV.Get_SNA],
    [ESV.SetC]: [ESV.Set_Res, ESV.SetC_SNA],
    [ESV.SetI]: [ESV.SetI_SNA],
    [ESV.INF_REQ]: [ESV.INF, ESV.INF_SNA],
    [ESV.SetGet]: [ESV.SetGet_SNA],
}

describe("ECHONET Lite frame codec", () => {
    it("decode(encode(frame)) gives the frame back", () => {
        fc.assert(
            fc.property(frameArb, f => {
                const d = decodeFrame(encodeFrame(f))
                expect(d).toEqual({ ok: true, frame: f })
            }),
            { numRuns: RUNS },
        )
    })

    it("names what is wrong with a malformed frame", () => {
        const good = Array.from(encodeFrame({ tid: 1, seoj: CONTROLLER, deoj: CHARGER_EOJ, esv: ESV.Get, props: [{ epc: 0xe4, edt: new Uint8Array(0) }] }))
        const bad = (b: number[]) => (decodeFrame(Uint8Array.from(b)) as { error: string }).error
        expect(bad(good.slice(0, 5))).toMatch(/too short: 5 bytes/)
        expect(bad([0x11, ...good.slice(1)])).toMatch(/EHD1 = 0x11/)
        expect(bad([0x10, 0x82, ...good.slice(2)])).toMatch(/EHD2 = 0x82/)
        expect(bad([...good.slice(0, 10), 0x99, ...good.slice(11)])).toMatch(/ESV = 0x99/)
        expect(bad([...good.slice(0, 11), 2, ...good.slice(12)])).toMatch(/property 2 of 2 has no EPC/)
        expect(bad([...good.slice(0, 13), 5])).toMatch(/PDC 5 but only 0 bytes follow/)
        expect(bad([...good, 0])).toMatch(/1 bytes after the last property/)
    })

    it(`never throws on ${RUNS} random datagrams; only well-formed frames decode`, () => {
        fc.assert(
            fc.property(fc.uint8Array({ maxLength: 64 }), b => {
                const d = decodeFrame(b)
                if (d.ok) expect(Array.from(encodeFrame(d.frame))).toEqual(Array.from(b))
            }),
            { numRuns: RUNS },
        )
    })
})

describe("the node on malformed and random frames", () => {
    it(`${RUNS} mutated frames, ${RUNS} valid requests and ${RUNS} random datagrams: no exception, no answer to what does not decode, every answer a well-formed response`, async () => {
        const inputs = [
            ...fc.sample(mutatedArb, { numRuns: RUNS, seed: 15 }),
            ...fc.sample(requestArb.map(encodeFrame), { numRuns: RUNS, seed: 17 }),
            ...fc.sample(fc.uint8Array({ maxLength: 40 }), { numRuns: RUNS, seed: 16 }),
        ]
        const { node, sent, logs } = fakeNode()
        let decodable = 0
        let answered = 0
        for (const bytes of inputs) {
            sent.length = 0
            await node.receive(bytes, from)
            const d = decodeFrame(bytes)
            if (!d.ok) {
                expect(sent).toEqual([])
                continue
            }
            decodable++
            const req = d.frame
            if (sent.length) answered++
            for (const s of sent) {
                const r = decodeFrame(s.bytes)
                expect(r.ok).toBe(true)
                if (!r.ok) continue
                // Notifications after a Set (INF to everyone) are the node's own; the rest answer the request.
                if (r.frame.esv === ESV.INF && s.to === null && r.frame.tid !== req.tid) continue
                expect(RESPONSE_TO[req.esv]).toContain(r.frame.esv)
                expect(r.frame.tid).toBe(req.tid)
                expect([CHARGER_EOJ, NODE_PROFILE_EOJ]).toContain(r.frame.seoj)
                if (r.frame.esv !== ESV.INF) expect(s.to).toEqual(from)
                expect(r.frame.props.map(p => p.epc)).toEqual(req.props.map(p => p.epc))
            }
        }
        expect(decodable).toBeGreaterThan(RUNS / 10) // the mutations left enough frames readable...
        expect(answered).toBeGreaterThan(RUNS / 2) // ...and enough of them were requests to this node
        expect(logs.some(l => l.includes("error while handling"))).toBe(false)
    })
})
