// Firmware entry for the charger_esp32 board (boards/charger_esp32.board.json): selects the board (its services
// and pins are embedded in the bytecode), starts the measurement-chip drivers with the board's
// calibration, then runs the application (src/main.ts, also the simulator's entry, unchanged).
// Built by `npm run build`, flashed by `npm run flash -- --board charger_esp32`.
import "@dsboard/charger_esp32"
// Imports run in order: the drivers start (and their servers exist) before the application
// module runs (it awaits its stored settings at the top level, which would otherwise hold up a
// call placed after the import).
import "../drivers/start-charger_esp32"
import "../main"
