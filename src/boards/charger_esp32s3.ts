// Firmware entry for the charger_esp32s3 board (boards/charger_esp32s3.board.json): selects the board (its services
// and pins are embedded in the bytecode), starts the measurement-chip drivers with the board's
// calibration, then runs the application (src/main.ts, also the simulator's entry, unchanged).
// Built by `npm run build`, flashed by `npm run flash -- --board charger_esp32s3`.
import "@dsboard/charger_esp32s3"
import { BOARD_HW } from "../config/board-charger_esp32s3.gen"
import { startChargerDrivers } from "../drivers/charger-drivers"
import "../main"

startChargerDrivers(BOARD_HW)
