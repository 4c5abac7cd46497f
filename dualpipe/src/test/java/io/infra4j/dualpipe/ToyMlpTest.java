package io.infra4j.dualpipe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The toy stage's hand-written backward against finite differences, so that the executor tests compare with truth. */
class ToyMlpTest {
    private static final int WIDTH = 3;
    private static final double H = 1e-6;

    private final SplittableRandom random = new SplittableRandom(42);
    private final ToyMlp stage = ToyMlp.random(WIDTH, 2, 9);
    private final double[][] x = ToyPipeline.matrix(4, random);
    private final double[][] labels = ToyPipeline.matrix(4, random);

    private double loss(ToyMlp s, double[][] input) {
        return ToyMlp.squaredError().evaluate(s.forward(0, input, false), labels, false).value();
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        ToyMlp s = stage.copy();
        double[][] out = s.forward(0, x, true);
        double[][] dx = s.backwardInput(0, ToyMlp.squaredError().evaluate(out, labels, true).gradient(), false);
        for (int r = 0; r < x.length; r++) {
            for (int i = 0; i < WIDTH; i++) {
                double[][] plus = ToyMlp.copyRows(x);
                double[][] minus = ToyMlp.copyRows(x);
                plus[r][i] += H;
                minus[r][i] -= H;
                assertNear((loss(stage, plus) - loss(stage, minus)) / (2 * H), dx[r][i], "dx[" + r + "][" + i + "]");
            }
        }
        for (int l = 0; l < stage.layers(); l++) {
            for (int o = 0; o < WIDTH; o++) {
                for (int i = 0; i < WIDTH; i++) {
                    double numeric = (loss(perturbWeight(l, o, i, H), x) - loss(perturbWeight(l, o, i, -H), x)) / (2 * H);
                    assertNear(numeric, s.weightGrad(l)[o][i], "dW" + l + "[" + o + "][" + i + "]");
                }
                double numeric = (loss(perturbBias(l, o, H), x) - loss(perturbBias(l, o, -H), x)) / (2 * H);
                assertNear(numeric, s.biasGrad(l)[o], "db" + l + "[" + o + "]");
            }
        }
    }

    @Test
    void deferredWeightWorkGivesTheSameGradients() {
        ToyMlp now = stage.copy();
        ToyMlp later = stage.copy();
        double[][] g = ToyPipeline.matrix(4, random);
        now.forward(5, x, true);
        later.forward(5, x, true);
        assertArrayEquals(now.backwardInput(5, g, false), later.backwardInput(5, g, true));
        assertEquals(1, later.inFlight());
        assertArrayEquals(new double[WIDTH], later.biasGrad(0), "nothing accumulated before the weight work");
        later.backwardWeight(5);
        assertEquals(0, later.inFlight());
        for (int l = 0; l < stage.layers(); l++) {
            assertArrayEquals(now.weightGrad(l), later.weightGrad(l));
            assertArrayEquals(now.biasGrad(l), later.biasGrad(l));
        }
    }

    @Test
    void severalMicroBatchesInFlight() {
        ToyMlp s = stage.copy();
        s.forward(0, x, true);
        s.forward(1, x, true);
        assertEquals(2, s.inFlight());
        assertThrows(IllegalStateException.class, () -> s.forward(1, x, true));
        s.backwardInput(1, x, false);
        s.backwardInput(0, x, false);
        assertEquals(0, s.inFlight());
        assertThrows(IllegalStateException.class, () -> s.backwardInput(0, x, false));
        assertThrows(IllegalStateException.class, () -> s.backwardWeight(0));
        s.forward(0, x, false);
        assertEquals(0, s.inFlight(), "inference keeps nothing");
    }

    @Test
    void rowHelpers() {
        double[][] batch = ToyPipeline.matrix(7, random);
        List<double[][]> parts = ToyMlp.splitRows(batch, 3);
        assertEquals(List.of(3, 2, 2), parts.stream().map(p -> p.length).toList());
        assertArrayEquals(batch, ToyMlp.concatRows(parts));
        assertThrows(IllegalArgumentException.class, () -> ToyMlp.splitRows(batch, 8));
        assertThrows(IllegalArgumentException.class, () -> stage.forward(0, new double[][] {{1, 2}}, false));
    }

    private ToyMlp perturbWeight(int l, int o, int i, double delta) {
        double[][][] w = new double[stage.layers()][][];
        double[][] b = new double[stage.layers()][];
        for (int k = 0; k < stage.layers(); k++) {
            w[k] = stage.weight(k);
            b[k] = stage.bias(k);
        }
        w[l][o][i] += delta;
        return ToyMlp.of(w, b);
    }

    private ToyMlp perturbBias(int l, int o, double delta) {
        double[][][] w = new double[stage.layers()][][];
        double[][] b = new double[stage.layers()][];
        for (int k = 0; k < stage.layers(); k++) {
            w[k] = stage.weight(k);
            b[k] = stage.bias(k);
        }
        b[l][o] += delta;
        return ToyMlp.of(w, b);
    }

    private static void assertNear(double expected, double actual, String what) {
        assertTrue(Math.abs(expected - actual) <= 1e-7 * Math.max(1, Math.abs(expected)),
                what + ": finite difference " + expected + ", backward " + actual);
    }
}
