#include "infra4j/fp8_gemm.h"
