package io.infra4j.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.infra4j.dualpipe.NcclCommunicator;
import io.infra4j.dualpipe.NcclCommunicator.TensorSpec;
import io.infra4j.ffm.nccl.NcclDataType;
import io.infra4j.memory.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** What needs no GPU of the DualPipe NCCL communicator: the dtype mapping and its message specs. */
class NcclCommunicatorTypesTest {
    @ParameterizedTest
    @EnumSource(DType.class)
    void everyDtypeTravelsAsAnNcclTypeOfItsSize(DType dtype) {
        NcclDataType type = NcclCommunicator.ncclType(dtype);
        assertEquals(dtype.byteSize(), type.byteSize(), dtype + " as " + type);
    }

    @Test
    void theMappingIsNcclsOwnWhereNcclHasTheType() {
        assertEquals(NcclDataType.FLOAT32, NcclCommunicator.ncclType(DType.F32));
        assertEquals(NcclDataType.FLOAT16, NcclCommunicator.ncclType(DType.F16));
        assertEquals(NcclDataType.BFLOAT16, NcclCommunicator.ncclType(DType.BF16));
        assertEquals(NcclDataType.FLOAT8_E4M3, NcclCommunicator.ncclType(DType.F8_E4M3));
        assertEquals(NcclDataType.FLOAT8_E5M2, NcclCommunicator.ncclType(DType.F8_E5M2));
        assertEquals(NcclDataType.INT32, NcclCommunicator.ncclType(DType.I32));
        assertEquals(NcclDataType.INT64, NcclCommunicator.ncclType(DType.I64));
        assertEquals(NcclDataType.INT8, NcclCommunicator.ncclType(DType.I8));
        assertEquals(NcclDataType.UINT8, NcclCommunicator.ncclType(DType.U8));
        assertEquals(NcclDataType.UINT8, NcclCommunicator.ncclType(DType.BOOL), "bool travels as bytes");
    }

    @Test
    void specsCopyTheirShapeAndRefuseNonsense() {
        long[] shape = {4, 33};
        TensorSpec spec = TensorSpec.of(DType.BF16, shape);
        shape[0] = 99;
        assertEquals(TensorSpec.of(DType.BF16, 4, 33), spec, "the spec keeps its own copy");
        spec.shape()[1] = 0;
        assertEquals("BF16[4, 33]", spec.toString());
        assertThrows(IllegalArgumentException.class, () -> TensorSpec.of(null, 4));
        assertThrows(IllegalArgumentException.class, () -> TensorSpec.of(DType.F32, 4, -1));
        assertThrows(IllegalArgumentException.class, () -> new TensorSpec(DType.F32, null));
    }
}
