// Starts the measurement-chip drivers of the charger_esp32 board with its calibration (imported by
// src/boards/charger_esp32.ts before the application).
import { BOARD_HW } from "../config/board-charger_esp32.gen"
import { startChargerDrivers } from "./charger-drivers"

startChargerDrivers(BOARD_HW)
