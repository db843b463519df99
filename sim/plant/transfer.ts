/**
 * The house's transfer contact (whole-house backup): a break-before-make changeover between the
 * utility grid and the islanded bus the V2H inverter forms. It RESTS ON THE GRID: energised
 * (command true) it moves the house to the island; de-energised (command false, a dead or
 * rebooting controller, an inverter that lost its link) it returns the house to the grid. A move
 * leaves one side at once and lands on the other `gapS` later (a few AC cycles): in between the
 * house is on neither. Pure step function.
 */

export type TransferPosition = "grid" | "island" | "moving"

export interface TransferParams {
    /** Break-before-make gap: time on neither side during a move (s). */
    gapS: number
}

export const DEFAULT_TRANSFER_PARAMS: TransferParams = {
    gapS: 0.05, // 3 cycles at 60 Hz: typical of a contactor-based automatic transfer switch
}

export interface TransferState {
    /** Where the house is connected now (the feedback contact reports position === "island"). */
    position: TransferPosition
    /** The side it is moving to (= position when at rest). */
    toward: "grid" | "island"
    /** Time since the move began (s). */
    movingS: number
}

export function initialTransfer(): TransferState {
    return { position: "grid", toward: "grid", movingS: 0 }
}

/** Advances the contact by dtS with the command held over the step (true = energised = island). */
export function stepTransfer(params: TransferParams, state: TransferState, dtS: number, islandCmd: boolean): TransferState {
    const want = islandCmd ? "island" : "grid"
    if (want !== state.toward) {
        // A new move starts from wherever the contact is (also reversing a move under way).
        if (state.position === want) return { position: want, toward: want, movingS: 0 }
        return stepTransfer(params, { position: "moving", toward: want, movingS: 0 }, dtS, islandCmd)
    }
    if (state.position !== "moving") return state
    const movingS = state.movingS + dtS
    if (movingS >= params.gapS - 1e-9) return { position: want, toward: want, movingS: 0 }
    return { position: "moving", toward: want, movingS }
}
