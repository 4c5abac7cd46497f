package io.infra4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.infra4j.ffm.ResourceTracker;
import io.infra4j.memory.Device;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The demo's MLA stage on the CPU path (CI has no GPU), and the comparison it holds a GPU's output to. */
class MlaStageTest {
    private static DemoContext context(long seed) {
        return new DemoContext(new DeviceChoice(Device.CPU, "test"), new DemoOptions(1000, "cpu", seed, "mla"),
                Progress.none());
    }

    @Test
    void passesOnTheCpuWithItsFiguresAndClosesEverything() {
        Set<Long> before = new HashSet<>();
        ResourceTracker.live().forEach(e -> before.add(e.id()));

        StageResult r = new MlaStage().run(context(42));
        assertTrue(r.passed(), r::toString);

        List<String> leaks = ResourceTracker.live().stream().filter(e -> !before.contains(e.id()))
                .map(ResourceTracker.Entry::toString).toList();
        assertEquals(List.of(), leaks);

        var f = r.figures();
        for (String key : List.of("sequences", "lengths", "tokens", "appends", "heads_q", "heads_kv", "seqlen_q", "head_dim",
                "head_dim_v", "causal", "kv_cache", "plan_splits", "plan_parts", "decode_ms", "timing", "non_finite", "check",
                "runs_on")) {
            assertTrue(f.containsKey(key), () -> key + " missing from " + f.keySet());
        }
        assertEquals(MlaStage.SEQUENCES, f.get("sequences"));
        List<?> lengths = (List<?>) f.get("lengths");
        assertEquals(MlaStage.SEQUENCES, lengths.size());
        long tokens = 0;
        for (Object o : lengths) {
            int len = (Integer) o;
            assertTrue(len >= MlaStage.MIN_LENGTH && len <= MlaStage.MAX_LENGTH, lengths::toString);
            tokens += len;
        }
        assertEquals(tokens, f.get("tokens"));
        assertEquals(16, f.get("heads_q"));
        assertEquals(1, f.get("heads_kv"));
        assertEquals(2, f.get("seqlen_q"));
        assertEquals(576, f.get("head_dim"));
        assertEquals(512, f.get("head_dim_v"));
        assertEquals(true, f.get("causal"));
        int splits = (Integer) f.get("plan_splits");
        int parts = (Integer) f.get("plan_parts");
        assertTrue(splits >= MlaStage.SEQUENCES, f::toString);
        assertTrue(parts > 0 && parts <= splits, f::toString);
        assertTrue((double) f.get("decode_ms") > 0, f::toString);
        assertEquals(0L, f.get("non_finite"));
        assertTrue(((String) f.get("runs_on")).startsWith("CPU: the FP32 reference only"), f::toString);
        assertFalse(f.containsKey("max_abs_error"), "no GPU, nothing compared");
    }

    @Test
    void theSeedPicksTheLengths() {
        StageResult a = new MlaStage().run(context(7));
        StageResult b = new MlaStage().run(context(7));
        StageResult c = new MlaStage().run(context(8));
        assertEquals(a.figures().get("lengths"), b.figures().get("lengths"));
        assertEquals(a.figures().get("plan_splits"), b.figures().get("plan_splits"));
        assertFalse(a.figures().get("lengths").equals(c.figures().get("lengths")));
    }

    @Test
    void everySequenceIsAppendedInThreePieces() {
        Random r = new Random(3);
        for (int len : new int[] {3, 4, 100, 101, 1999, 2000}) {
            for (int i = 0; i < 200; i++) {
                int[] p = MlaStage.pieces(len, r);
                assertEquals(MlaStage.PIECES, p.length);
                assertEquals(len, p[0] + p[1] + p[2]);
                for (int n : p) {
                    assertTrue(n >= 1, () -> len + ": " + Arrays.toString(p));
                }
            }
        }
    }

    @Test
    void theComparisonFindsWrongElementsAndDrift() {
        float[] ref = new float[1000];
        Random r = new Random(1);
        for (int i = 0; i < ref.length; i++) {
            ref[i] = (float) r.nextGaussian();
        }
        MlaStage.Comparison same = MlaStage.compare(ref.clone(), ref);
        assertEquals(new MlaStage.Comparison(0, 0, 0), same);
        assertTrue(same.passed());

        float[] one = ref.clone();
        one[17] += 0.1f;
        MlaStage.Comparison c = MlaStage.compare(one, ref);
        assertEquals(1, c.mismatches());
        assertEquals(0.1, c.maxAbsError(), 1e-6);
        assertFalse(c.passed());

        float[] near = ref.clone();
        for (int i = 0; i < near.length; i++) {
            near[i] += 5e-4f; // within 8e-4 everywhere, and the whole barely drifts
        }
        assertEquals(0, MlaStage.compare(near, ref).mismatches());
        assertTrue(MlaStage.compare(near, ref).passed(), () -> MlaStage.compare(near, ref).toString());

        float[] big = {100f, -50f};
        assertEquals(0, MlaStage.compare(new float[] {101f, -50.5f}, big).mismatches(), "within 2/128 relative");
        assertEquals(1, MlaStage.compare(new float[] {102f, -50f}, big).mismatches(), "2% is beyond 2/128");

        float[] scaled = ref.clone();
        for (int i = 0; i < scaled.length; i++) {
            scaled[i] *= 1.01f; // 1% off: each element passes its relative bound, the cosine difference does not
        }
        MlaStage.Comparison s = MlaStage.compare(scaled, ref);
        assertTrue(s.cosineDiff() > MlaStage.COSINE_TOLERANCE, s::toString);
        assertFalse(s.passed());

        float[] nan = ref.clone();
        nan[3] = Float.NaN;
        MlaStage.Comparison n = MlaStage.compare(nan, ref);
        assertEquals(1, n.mismatches());
        assertTrue(Double.isNaN(n.maxAbsError()), n::toString);
        assertEquals(Double.POSITIVE_INFINITY, n.cosineDiff(), n::toString);
        assertFalse(n.passed());

        float[] inf = {Float.POSITIVE_INFINITY, 1f};
        assertEquals(new MlaStage.Comparison(0, 0, 0), MlaStage.compare(inf.clone(), inf),
                "rows that see no key: +inf on both sides");
        assertEquals(1, MlaStage.compare(new float[] {5f, 1f}, inf).mismatches());
    }
}
