// Starts the measurement-chip drivers of the charger_esp32s3 board with its calibration (imported by
// src/boards/charger_esp32s3.ts before the application).
import { boardHw } from "../config/board-charger_esp32s3.gen"
import { startChargerDrivers } from "./charger-drivers"

// Runs now, from inside a function expression: DeviceScript compiles function expressions after
// the top-level code and numbers strings in order of first use, so the drivers' strings come after
// the application's, whose indices stay below 248 and take one byte instead of three (about 0.3 KB
// of code; docs/boards.md, "Build and bytecode budget").
;(() => startChargerDrivers(boardHw()))()
