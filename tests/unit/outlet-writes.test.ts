import { describe, expect, it } from "vitest"
import { OutletWrites, SUPPLY_CONTACTOR } from "../../src/core/outlets/outlet-writes"
import { Controller } from "../../src/core/controller"
import { DEVS } from "../../src/config/devs.gen"
import { defaultPersisted } from "../../src/core/persist"

const list = (w: OutletWrites) => w.writes.slice(0, w.count).map(x => (x.outlet === SUPPLY_CONTACTOR ? "supply" : "relay" + (x.outlet + 1)) + "=" + x.on)
const ALL = [true, true, true]

describe("OutletWrites: which relay and supply writes, in which order", () => {
    it("everything once at first (unknown state): the relays in outlet order, the supply restored last", () => {
        const w = new OutletWrites(3)
        expect(w.plan([true, false, true], ALL, true, true)).toBe(4)
        expect(list(w)).toEqual(["relay1=true", "relay2=false", "relay3=true", "supply=true"])
    })

    it("a supply cut goes before every relay write", () => {
        const w = new OutletWrites(2)
        w.plan([true, true], ALL, true, true)
        w.plan([false, true], ALL, false, true)
        expect(list(w)).toEqual(["supply=false", "relay1=false"])
        w.plan([true, true], ALL, true, true)
        expect(list(w)).toEqual(["relay1=true", "supply=true"])
    })

    it("only what changed afterwards; nothing when nothing changed", () => {
        const w = new OutletWrites(2)
        w.plan([true, true], ALL, true, true)
        expect(w.plan([true, true], ALL, true, true)).toBe(0)
        expect(w.plan([true, false], ALL, true, true)).toBe(1)
        expect(list(w)).toEqual(["relay2=false"])
        expect(w.plan([true, false], ALL, true, true)).toBe(0)
    })

    it("nothing to a role that is not bound; it gets its command when it is bound", () => {
        const w = new OutletWrites(2)
        expect(w.plan([true, false], [true, false], false, false)).toBe(1)
        expect(list(w)).toEqual(["relay1=true"])
        // Relay 2 and the supply bind: they are written, the unchanged relay 1 is not.
        w.plan([true, false], [true, true], false, true)
        expect(list(w)).toEqual(["supply=false", "relay2=false"])
        // Relay 2 goes away with its command unchanged, then comes back: written again.
        w.plan([true, false], [true, false], false, true)
        expect(w.count).toBe(0)
        w.plan([true, false], [true, true], false, true)
        expect(list(w)).toEqual(["relay2=false"])
    })

    it("forgetRelay / forgetSupply (a role bound again) write that role again, and only it", () => {
        const w = new OutletWrites(2)
        w.plan([true, true], ALL, true, true)
        w.forgetRelay(1)
        expect(w.plan([true, true], ALL, true, true)).toBe(1)
        expect(list(w)).toEqual(["relay2=true"])
        w.forgetSupply()
        w.plan([true, true], ALL, true, true)
        expect(list(w)).toEqual(["supply=true"])
        // Forgetting an outlet before its first plan is allowed.
        const f = new OutletWrites(3)
        f.forgetRelay(2)
        expect(f.plan([false, false, false], ALL, true, true)).toBe(4)
    })

    it("four outlets: every write fits; a shorter plan never reports an earlier plan's writes", () => {
        const w = new OutletWrites(4)
        w.plan([true, true, true, true], [true, true, true, true], true, true)
        expect(w.count).toBe(5)
        w.plan([false, true, true, true], [true, true, true, true], true, true)
        expect(list(w)).toEqual(["relay1=false"])
    })
})

describe("Controller: the outlet writes of a protection tick", () => {
    it("the e-stop cuts the supply before the relays are written off", () => {
        const c = new Controller(DEVS)
        c.boot(defaultPersisted(DEVS), 0)
        const inp = {
            nowMs: 1000,
            mainSwitchOn: true,
            mainSwitchBound: true,
            outlets: [0, 1].map(() => ({ powerW: 100, currentA: 1, atMs: 1000 })),
            socPct: 80,
            socAtMs: 1000,
            estop: false,
        }
        c.tickOutlets(inp, false)
        c.planOutletWrites([true, true], true)
        expect(list(c.outletWrites)).toEqual(["relay1=true", "relay2=true", "supply=true"])
        inp.nowMs = 1020
        c.tickOutlets(inp, true)
        c.planOutletWrites([true, true], true)
        expect(list(c.outletWrites)).toEqual(["supply=false", "relay1=false", "relay2=false"])
    })
})
