// Starts the measurement-chip drivers of the charger_esp32s3 board with its calibration (imported by
// src/boards/charger_esp32s3.ts before the application).
import { BOARD_HW } from "../config/board-charger_esp32s3.gen"
import { startChargerDrivers } from "./charger-drivers"

startChargerDrivers(BOARD_HW)
