// The shape of a board's measurement chips as the generated src/config/board-<id>.gen.ts gives
// them (boardHw()): per chip the driver's build-time setup (see the *-regs setup functions) and
// the shell's poll period. Types only, so that Node code (scripts/gen-boards.ts, tests) can use it.
import type { Ade7953Setup } from "./ade7953-regs"
import type { Ina228Setup } from "./ina228-regs"
import type { Tmp102Setup } from "./tmp102-regs"

/** How often the shell polls a chip, ms (board file). */
export interface Polled {
    pollMs: number
}

export interface ChargerHardware {
    outletMeter: Ade7953Setup & Polled
    dcMonitor: Ina228Setup & Polled
    heatsinkTemp: Tmp102Setup & Polled
}
