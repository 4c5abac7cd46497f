package io.infra4j.eplb.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The three order-dependent primitives against what PyTorch 2.11's CPU kernels answered
 * ({@code torch/primitives.json.gz}, recorded on the H200 machine's host CPU by
 * {@code eplb/tools/record_torch_primitives.py}; the sums were identical with ATEN_CPU_CAPABILITY
 * default, avx2 and avx512, and differ from 16-lane and left-to-right sums in over half the rows).
 */
class TorchPrimitivesParityTest {
    private static JsonNode recorded;

    @BeforeAll
    static void load() throws IOException {
        try (InputStream in = new GZIPInputStream(TorchPrimitivesParityTest.class.getResourceAsStream("/torch/primitives.json.gz"))) {
            recorded = new ObjectMapper().readTree(in);
        }
    }

    private static float[] floats(JsonNode array) {
        float[] f = new float[array.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) array.get(i).doubleValue(); // recorded float32 values, exact as doubles
        }
        return f;
    }

    private static int[] ints(JsonNode array) {
        int[] v = new int[array.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = array.get(i).intValue();
        }
        return v;
    }

    @Test
    void sortMatchesTorchOnTiesAndAllLengths() {
        int n = 0;
        for (JsonNode c : recorded.get("sorts")) {
            float[] values = floats(c.get("values"));
            assertArrayEquals(ints(c.get("indices")), TorchSort.argsortDescending(values),
                    "torch.sort(descending=True) of " + values.length + " values");
            n++;
        }
        assertEquals(212, n);
    }

    @Test
    void groupSumsMatchTorchToTheBit() {
        int rows = 0;
        for (JsonNode c : recorded.get("sums")) {
            int groupSize = c.get("group_size").intValue();
            for (int l = 0; l < c.get("weight").size(); l++) {
                float[] w = floats(c.get("weight").get(l));
                float[] expected = floats(c.get("sums").get(l));
                for (int g = 0; g < expected.length; g++) {
                    float got = new TorchSum().sum(w, g * groupSize, groupSize);
                    assertEquals(Float.floatToRawIntBits(expected[g]), Float.floatToRawIntBits(got),
                            "sum of a group of " + groupSize + ": torch " + expected[g] + ", port " + got);
                    rows++;
                }
            }
        }
        assertEquals(315, rows);
    }

    @Test
    void argmaxTakesTheFirstMaximumAsTorchDoes() {
        for (JsonNode c : recorded.get("argmax")) {
            int[] expected = ints(c.get("indices"));
            for (int r = 0; r < expected.length; r++) {
                assertEquals(expected[r], Replication.argmax(floats(c.get("values").get(r))));
            }
        }
    }
}
