// A valid stored record with every field away from its default, for the persistence tests.
import { DEVS } from "../../src/config/devs.gen"
import { defaultPersisted } from "../../src/core/persist"

export const goodRecord = () => ({
    ...defaultPersisted(DEVS),
    boot: 7,
    soc_floor_pct: 25,
    outlet_priority: 2,
    reserve_pct: 40,
    charge_limit_pct: 80,
    latched: ["none", "overload_inverse"],
    fault: "estop",
    log: [{ fault: "estop", ms: 1234, boot: 6 }],
    wh: [100.5, 20, 3],
})
