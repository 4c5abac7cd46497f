package io.infra4j.deepep;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.CudaStream;
import io.infra4j.memory.DType;
import io.infra4j.memory.Device;
import io.infra4j.memory.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What IntranodeEp and LowLatencyEp refuse before any native call: runs without a GPU. */
class IntranodeEpArgsTest {
    private final ExpertPlacement placement = new ExpertPlacement(8, 2);

    private static IntranodeEp.RankInput cpuRank(int tokens) {
        return IntranodeEp.RankInput.bf16(Tensor.empty(DType.BF16, Device.CPU, tokens, 128), Tensor.empty(DType.I64, Device.CPU, tokens, 2),
                Tensor.empty(DType.F32, Device.CPU, tokens, 2));
    }

    @Test
    void hostTensorsAreSentToTheReference() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> IntranodeEp.dispatch(List.of(cpuRank(3), cpuRank(2)), placement, 1, CudaStream.legacyDefault()));
        assertTrue(e.getMessage().contains("EpReference is the CPU path"), e.getMessage());
    }

    @Test
    void theWorldAndAlignmentAreChecked() {
        assertThrows(IllegalArgumentException.class,
                () -> IntranodeEp.dispatch(List.of(cpuRank(3)), placement, 1, CudaStream.legacyDefault()));
        assertThrows(IllegalArgumentException.class,
                () -> IntranodeEp.dispatch(List.of(cpuRank(3), cpuRank(3)), placement, 0, CudaStream.legacyDefault()));
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class,
                () -> IntranodeEp.dispatch(List.of(), new ExpertPlacement(128, 128), 1, CudaStream.legacyDefault()));
        assertTrue(big.getMessage().contains("at most 64 ranks"), big.getMessage());
        assertThrows(IllegalArgumentException.class, () -> IntranodeEp.dispatch(List.of(cpuRank(1), cpuRank(1)), placement, 1, null));
    }

    @Test
    void lowLatencyChecksTheSameAndItsBufferSize() {
        assertThrows(IllegalArgumentException.class,
                () -> LowLatencyEp.dispatch(List.of(cpuRank(3), cpuRank(2)), placement, 0, CudaStream.legacyDefault()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LowLatencyEp.dispatch(List.of(cpuRank(3), cpuRank(2)), placement, 8, CudaStream.legacyDefault()));
        assertTrue(e.getMessage().contains("EpReference is the CPU path"), e.getMessage());
    }
}
