#pragma once
// nwgf CUDA emulator: the CUB device-wide algorithms our code uses (host implementations).
#include "cub/device/device_radix_sort.cuh"
