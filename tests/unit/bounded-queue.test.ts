// BoundedQueue at its edges: a queue with no room keeps nothing and counts every push as a drop;
// a full queue drops exactly one (the oldest) per push. (The ordering property is in
// mqtt-link.test.ts.)
import { describe, expect, it } from "vitest"
import { BoundedQueue } from "../../src/core/common/bounded-queue"

describe("bounded queue edges", () => {
    for (const cap of [0, -1]) {
        it(`capacity ${cap}: every push is dropped and counted, nothing is kept`, () => {
            const q = new BoundedQueue<string>(cap)
            expect(q.push("a")).toBe(true)
            expect(q.push("b")).toBe(true)
            expect(q.size()).toBe(0)
            expect(q.dropped).toBe(2)
            expect(q.peek()).toBeUndefined()
            expect(q.shift()).toBeUndefined()
        })
    }

    it("a full queue drops one item per push, the oldest, and reports it", () => {
        const q = new BoundedQueue<number>(3)
        expect([1, 2, 3].map(x => q.push(x))).toEqual([false, false, false])
        expect(q.dropped).toBe(0)
        expect(q.push(4)).toBe(true)
        expect(q.dropped).toBe(1)
        expect(q.size()).toBe(3)
        expect(q.peek()).toBe(2)
        expect(q.shift()).toBe(2)
        expect(q.push(5)).toBe(false)
        expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual([3, 4, 5, undefined])
        expect(q.dropped).toBe(1)
    })
})
