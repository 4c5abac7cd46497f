package io.infra4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.JsonNode;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.KernelLibrary;
import org.junit.jupiter.api.Test;

class DemoCommandTest {
    private static boolean gpuUsable() {
        return Cuda.isAvailable() && KernelLibrary.isAvailable();
    }

    @Test
    void jsonDemoOnTheCpuPath() {
        assumeFalse(gpuUsable(), "this machine has a usable GPU");
        Cli r = Cli.run("demo", "--json", "--size", "100000", "--no-progress");
        assertEquals(0, r.code(), r::toString);
        assertEquals("", r.err(), "--no-progress and success: nothing on stderr");
        JsonNode j = r.json();

        assertEquals("cpu", j.get("device").asText());
        assertTrue(j.get("device_reason").asText().startsWith("no GPU: running on the CPU path ("), r::toString);
        assertEquals(100000, j.get("size").asLong());
        assertTrue(j.get("passed").asBoolean(), r::toString);
        assertTrue(j.get("leaks").isArray() && j.get("leaks").isEmpty(), r::toString);

        JsonNode stages = j.get("stages");
        assertEquals(DemoStages.all().size(), stages.size());
        JsonNode mem = stages.get(0);
        assertEquals("memory", mem.get("name").asText());
        assertEquals("cpu", mem.get("device").asText());
        assertTrue(mem.get("passed").asBoolean(), r::toString);
        assertTrue(mem.get("failures").isEmpty(), r::toString);
        assertTrue(mem.get("duration_ms").asDouble() > 0);

        JsonNode f = mem.get("figures");
        assertEquals(100000, f.get("elements").asLong());
        assertEquals(3, f.get("casts").size());
        for (JsonNode c : f.get("casts")) {
            double err = c.get("rel_l2_error").asDouble();
            assertTrue(err > 0 && err <= c.get("limit").asDouble(), c::toString);
            assertTrue(c.get("max_abs_error").asDouble() > 0, c::toString);
        }
        assertEquals("f32->bf16->f32", f.at("/casts/0/round_trip").asText());
        assertEquals("saturate", f.at("/casts/1/mode").asText());
        assertEquals(0, f.at("/strided_copy/mismatches").asLong());
        assertEquals(316L * 316, f.at("/strided_copy/elements").asLong());
        assertEquals(7, f.get("ops").size(), "3 casts there and back, one transpose");
        for (JsonNode op : f.get("ops")) {
            assertTrue(op.get("bytes").asLong() > 0 && op.get("gb_per_s").asDouble() > 0, op::toString);
        }

        JsonNode eplb = stages.get(1);
        assertEquals("eplb", eplb.get("name").asText());
        assertTrue(eplb.get("passed").asBoolean(), r::toString);
        assertTrue(eplb.at("/figures/gpu_imbalance_after").asDouble() < eplb.at("/figures/gpu_imbalance_before").asDouble(),
                r::toString);

        JsonNode dualpipe = stages.get(2);
        assertEquals("dualpipe", dualpipe.get("name").asText());
        assertTrue(dualpipe.get("passed").asBoolean(), r::toString);
        for (JsonNode run : dualpipe.at("/figures/runs")) {
            assertTrue(run.get("max_grad_rel_diff").asDouble() <= 1e-12, run::toString);
        }

        JsonNode mla = stages.get(3);
        assertEquals("mla", mla.get("name").asText());
        assertEquals("cpu", mla.get("device").asText());
        assertTrue(mla.get("passed").asBoolean(), r::toString);
        assertEquals(4, mla.at("/figures/lengths").size(), r::toString);
        assertTrue(mla.at("/figures/plan_splits").asInt() > 0, r::toString);
        assertEquals(0, mla.at("/figures/non_finite").asLong(), r::toString);
        assertTrue(mla.at("/figures/runs_on").asText().startsWith("CPU"), r::toString);

        JsonNode gemm = stages.get(4);
        assertEquals("gemm", gemm.get("name").asText());
        assertTrue(gemm.get("passed").asBoolean(), r::toString);
        assertTrue(gemm.at("/figures/grouped_calc_diff").asDouble() < 1e-3, r::toString);

        JsonNode ep = stages.get(5);
        assertEquals("ep", ep.get("name").asText());
        assertTrue(ep.get("passed").asBoolean(), r::toString);
        assertTrue(ep.at("/figures/runs_on").asText().startsWith("CPU"), r::toString);

        JsonNode checkpoint = stages.get(6);
        assertEquals("checkpoint", checkpoint.get("name").asText());
        assertTrue(checkpoint.get("passed").asBoolean(), r::toString);
        assertEquals(7, checkpoint.at("/figures/tensors").asInt(), r::toString);
        assertEquals("EMBEDDED", checkpoint.at("/figures/backend").asText(), r::toString);
    }

    @Test
    void sameSeedSameFigures() {
        JsonNode a = Cli.run("demo", "--json", "--size", "5000", "--no-progress", "--seed", "7").json();
        JsonNode b = Cli.run("demo", "--json", "--size", "5000", "--no-progress", "--seed", "7").json();
        assertEquals(a.at("/stages/0/figures/casts"), b.at("/stages/0/figures/casts"));
    }

    @Test
    void textDemoSaysDeviceAndVerdict() {
        Cli r = Cli.run("demo", "--size", "4096", "--no-progress", "--device", "cpu", "--stage", "memory");
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains("infra4j demo on cpu: CPU path, as asked"), r::toString);
        assertTrue(r.out().contains("[PASS] memory on cpu"), r::toString);
        assertTrue(r.out().contains("rel_l2_error"), r::toString);
        assertTrue(r.out().contains("leaks: none"), r::toString);
        assertTrue(r.out().contains("demo passed"), r::toString);
    }

    @Test
    void askingForAGpuWithoutOneFailsInOneLine() {
        assumeFalse(gpuUsable(), "this machine has a usable GPU");
        Cli r = Cli.run("demo", "--device", "cuda", "--size", "1000", "--no-progress");
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().contains("no usable GPU here"), r::toString);
        assertEquals(1, r.err().lines().count(), r::toString);
    }

    @Test
    void progressGoesToStderrOnly() {
        Cli r = Cli.run("demo", "--json", "--size", "2000");
        assertEquals(0, r.code(), r::toString);
        r.json(); // stdout stays pure JSON
        assertTrue(r.err().contains("demo memory"), r::toString);
        assertTrue(r.err().contains("demo eplb"), r::toString);
        assertTrue(r.err().contains("demo dualpipe"), r::toString);
        assertTrue(r.err().contains("demo mla"), r::toString);
    }
}
