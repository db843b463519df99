import { DEVS } from "./config/devs.gen"
import { OutletProtection } from "./core/outlet-protection"
const p = new OutletProtection(DEVS)
console.log(p.status.socFloorPct)
