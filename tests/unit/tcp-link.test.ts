import { describe, expect, it } from "vitest"
import { FrameReader, encodeFrame } from "../../sim/tcp-link"

describe("the devtools hub's TCP framing", () => {
    it("uses a 1-byte length below 255 bytes and 0xff + 16-bit little-endian above", () => {
        expect([...encodeFrame(new Uint8Array([1, 2, 3]))]).toEqual([3, 1, 2, 3])
        const big = encodeFrame(new Uint8Array(300))
        expect([...big.subarray(0, 3)]).toEqual([0xff, 300 & 0xff, 300 >> 8])
        expect(big.length).toBe(303)
    })

    it("splits a byte stream into frames however the chunks fall", () => {
        const frames = [new Uint8Array([9, 8]), new Uint8Array(300).fill(7), new Uint8Array([5])]
        const stream = Buffer.concat(frames.map(encodeFrame))
        const reader = new FrameReader()
        const out: Uint8Array[] = []
        for (let i = 0; i < stream.length; i += 7) out.push(...reader.push(stream.subarray(i, i + 7)))
        expect(out.map(f => [...f])).toEqual(frames.map(f => [...f]))
    })
})
