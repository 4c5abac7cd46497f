package io.infra4j.dualpipe;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The reference toy model: a pipeline stage of {@code layers} fully connected layers of one width,
 * each {@code y = tanh(x W^T + b)}, with hand-written FP64 forward and backward. Payloads are
 * micro-batches of rows, {@code double[rows][width]}; they are never modified. Small enough to check
 * an executor against the same stages run one after another ({@link #runSequential}), exact enough
 * (FP64, {@link StrictMath#tanh}) that the two agree to rounding.
 */
public final class ToyMlp implements PipelineStage<double[][]> {
    private final int width;
    private final double[][][] weight; // [layer][out][in]
    private final double[][] bias; // [layer][out]
    private final double[][][] weightGrad;
    private final double[][] biasGrad;
    /** Per micro-batch in flight: the input of each layer, then the last layer's output. */
    private final Map<Integer, double[][][]> activations = new HashMap<>();
    /** Per micro-batch whose weight work was deferred: each layer's input and pre-activation gradient. */
    private final Map<Integer, WeightWork> deferred = new HashMap<>();

    private record WeightWork(double[][][] layerInputs, double[][][] preActivationGrads) {}

    private ToyMlp(double[][][] weight, double[][] bias) {
        this.width = bias[0].length;
        this.weight = weight;
        this.bias = bias;
        this.weightGrad = new double[weight.length][width][width];
        this.biasGrad = new double[weight.length][width];
    }

    /** A stage with weights drawn uniformly from ±1.5/sqrt(width) (tanh neither saturates nor vanishes) and small biases. */
    public static ToyMlp random(int width, int layers, long seed) {
        if (width < 1 || layers < 1) {
            throw new IllegalArgumentException("width and layers must be at least 1, got width=" + width + ", layers=" + layers);
        }
        SplittableRandom random = new SplittableRandom(seed);
        double scale = 1.5 / Math.sqrt(width);
        double[][][] w = new double[layers][width][width];
        double[][] b = new double[layers][width];
        for (int l = 0; l < layers; l++) {
            for (int o = 0; o < width; o++) {
                for (int i = 0; i < width; i++) {
                    w[l][o][i] = random.nextDouble(-scale, scale);
                }
                b[l][o] = random.nextDouble(-0.1, 0.1);
            }
        }
        return new ToyMlp(w, b);
    }

    /**
     * A stage with the given parameters (copied): {@code weight[layer]} is [width][width] (out, in),
     * {@code bias[layer]} has width values.
     */
    public static ToyMlp of(double[][][] weight, double[][] bias) {
        if (weight == null || bias == null || weight.length == 0 || weight.length != bias.length) {
            throw new IllegalArgumentException("weight and bias need the same, non-zero number of layers");
        }
        int width = bias[0] == null ? 0 : bias[0].length;
        double[][][] w = new double[weight.length][][];
        double[][] b = new double[weight.length][];
        for (int l = 0; l < weight.length; l++) {
            if (width == 0 || bias[l] == null || bias[l].length != width || weight[l] == null || weight[l].length != width) {
                throw new IllegalArgumentException("layer " + l + ": weight must be [" + width + "][" + width + "], bias [" + width
                        + "] (width taken from bias[0], which must be non-empty)");
            }
            for (double[] row : weight[l]) {
                if (row == null || row.length != width) {
                    throw new IllegalArgumentException("layer " + l + ": every weight row must have " + width + " values");
                }
            }
            w[l] = copyRows(weight[l]);
            b[l] = bias[l].clone();
        }
        return new ToyMlp(w, b);
    }

    /** The same parameters, with zero gradients and nothing in flight: a copy for a reference run. */
    public ToyMlp copy() {
        return of(weight, bias);
    }

    public int width() {
        return width;
    }

    public int layers() {
        return weight.length;
    }

    /** A copy of layer {@code l}'s weight, [out][in]. */
    public double[][] weight(int l) {
        return copyRows(weight[l]);
    }

    /** A copy of layer {@code l}'s bias. */
    public double[] bias(int l) {
        return bias[l].clone();
    }

    /** A copy of layer {@code l}'s accumulated weight gradient, [out][in]. */
    public double[][] weightGrad(int l) {
        return copyRows(weightGrad[l]);
    }

    /** A copy of layer {@code l}'s accumulated bias gradient. */
    public double[] biasGrad(int l) {
        return biasGrad[l].clone();
    }

    public void zeroGrad() {
        for (int l = 0; l < weight.length; l++) {
            for (double[] row : weightGrad[l]) {
                Arrays.fill(row, 0);
            }
            Arrays.fill(biasGrad[l], 0);
        }
    }

    /** Micro-batches forwarded for training whose backward (input and weight parts) has not finished. */
    public int inFlight() {
        return activations.size() + deferred.size();
    }

    // ---- PipelineStage ----

    @Override
    public double[][] forward(int microBatch, double[][] input, boolean training) {
        checkWidth(input, "input of micro-batch " + microBatch);
        if (training && (activations.containsKey(microBatch) || deferred.containsKey(microBatch))) {
            throw new IllegalStateException("micro-batch " + microBatch + " is already in flight");
        }
        double[][][] acts = new double[weight.length + 1][][];
        acts[0] = input;
        for (int l = 0; l < weight.length; l++) {
            acts[l + 1] = layerForward(l, acts[l]);
        }
        if (training) {
            activations.put(microBatch, acts);
        }
        return acts[weight.length];
    }

    @Override
    public double[][] backwardInput(int microBatch, double[][] outputGradient, boolean deferWeight) {
        double[][][] acts = activations.remove(microBatch);
        if (acts == null) {
            throw new IllegalStateException("backward of micro-batch " + microBatch + ", which is not forwarded for training");
        }
        checkWidth(outputGradient, "output gradient of micro-batch " + microBatch);
        int layers = weight.length;
        double[][][] preGrads = new double[layers][][];
        double[][] grad = outputGradient;
        for (int l = layers - 1; l >= 0; l--) {
            preGrads[l] = tanhBackward(acts[l + 1], grad);
            grad = matmul(preGrads[l], weight[l]); // dx = dz W
        }
        WeightWork work = new WeightWork(acts, preGrads);
        if (deferWeight) {
            deferred.put(microBatch, work);
        } else {
            accumulate(work);
        }
        return grad;
    }

    @Override
    public void backwardWeight(int microBatch) {
        WeightWork work = deferred.remove(microBatch);
        if (work == null) {
            throw new IllegalStateException("no deferred weight work for micro-batch " + microBatch);
        }
        accumulate(work);
    }

    // ---- the math ----

    private double[][] layerForward(int l, double[][] x) {
        double[][] y = new double[x.length][width];
        for (int r = 0; r < x.length; r++) {
            for (int o = 0; o < width; o++) {
                double z = bias[l][o];
                for (int i = 0; i < width; i++) {
                    z += x[r][i] * weight[l][o][i];
                }
                y[r][o] = StrictMath.tanh(z);
            }
        }
        return y;
    }

    /** dz = dy (1 - y^2). */
    private static double[][] tanhBackward(double[][] y, double[][] dy) {
        double[][] dz = new double[y.length][y[0].length];
        for (int r = 0; r < y.length; r++) {
            for (int o = 0; o < y[r].length; o++) {
                dz[r][o] = dy[r][o] * (1 - y[r][o] * y[r][o]);
            }
        }
        return dz;
    }

    /** a [rows][out] times w [out][in]. */
    private static double[][] matmul(double[][] a, double[][] w) {
        int in = w[0].length;
        double[][] out = new double[a.length][in];
        for (int r = 0; r < a.length; r++) {
            for (int o = 0; o < w.length; o++) {
                for (int i = 0; i < in; i++) {
                    out[r][i] += a[r][o] * w[o][i];
                }
            }
        }
        return out;
    }

    /** dW += dz^T x, db += sum of dz over the rows. */
    private void accumulate(WeightWork work) {
        for (int l = 0; l < weight.length; l++) {
            double[][] x = work.layerInputs()[l];
            double[][] dz = work.preActivationGrads()[l];
            for (int r = 0; r < x.length; r++) {
                for (int o = 0; o < width; o++) {
                    biasGrad[l][o] += dz[r][o];
                    for (int i = 0; i < width; i++) {
                        weightGrad[l][o][i] += dz[r][o] * x[r][i];
                    }
                }
            }
        }
    }

    private void checkWidth(double[][] rows, String what) {
        if (rows == null || rows.length == 0) {
            throw new IllegalArgumentException(what + " has no rows");
        }
        for (double[] row : rows) {
            if (row == null || row.length != width) {
                throw new IllegalArgumentException(what + ": every row must have " + width + " values");
            }
        }
    }

    // ---- criterion, payload helpers, reference ----

    /** Half the sum of squared errors, so that micro-batch losses add up to the whole batch's; gradient: output - labels. */
    public static Criterion<double[][]> squaredError() {
        return (output, labels, withGradient) -> {
            if (output.length != labels.length) {
                throw new IllegalArgumentException("output has " + output.length + " rows, labels " + labels.length);
            }
            double loss = 0;
            double[][] grad = withGradient ? new double[output.length][] : null;
            for (int r = 0; r < output.length; r++) {
                if (withGradient) {
                    grad[r] = new double[output[r].length];
                }
                for (int i = 0; i < output[r].length; i++) {
                    double e = output[r][i] - labels[r][i];
                    loss += 0.5 * e * e;
                    if (withGradient) {
                        grad[r][i] = e;
                    }
                }
            }
            return new Criterion.Loss<>(loss, grad);
        };
    }

    /** A deep copy: the payload copy for {@link InProcessCommunicator} and {@link DualPipe#runAll}. */
    public static double[][] copyRows(double[][] rows) {
        double[][] copy = new double[rows.length][];
        for (int r = 0; r < rows.length; r++) {
            copy[r] = rows[r].clone();
        }
        return copy;
    }

    /** The batch's rows cut into {@code parts} micro-batches in order, sizes differing by at most one. */
    public static List<double[][]> splitRows(double[][] batch, int parts) {
        if (parts < 1 || parts > batch.length) {
            throw new IllegalArgumentException("cannot split " + batch.length + " rows into " + parts + " non-empty micro-batches");
        }
        List<double[][]> out = new ArrayList<>();
        int from = 0;
        for (int p = 0; p < parts; p++) {
            int to = from + batch.length / parts + (p < batch.length % parts ? 1 : 0);
            out.add(copyRows(Arrays.copyOfRange(batch, from, to)));
            from = to;
        }
        return List.copyOf(out);
    }

    /** The micro-batches' rows, in order, as one batch. */
    public static double[][] concatRows(List<double[][]> microBatches) {
        List<double[]> rows = new ArrayList<>();
        for (double[][] mb : microBatches) {
            for (double[] row : mb) {
                rows.add(row.clone());
            }
        }
        return rows.toArray(new double[0][]);
    }

    /** What {@link #runSequential} computed: the last stage's output and the loss (0 without labels). */
    public record Sequential(double[][] output, double loss) {}

    /**
     * The non-pipelined reference: the whole batch through {@code path}'s stages in order and, with
     * labels, the squared-error loss and a backward through all of them (weight work not deferred),
     * accumulating into their gradients.
     */
    public static Sequential runSequential(List<ToyMlp> path, double[][] batch, double[][] labels) {
        if (path.isEmpty()) {
            throw new IllegalArgumentException("path is empty");
        }
        boolean training = labels != null;
        double[][] x = batch;
        for (ToyMlp stage : path) {
            x = stage.forward(0, x, training);
        }
        if (!training) {
            return new Sequential(x, 0);
        }
        Criterion.Loss<double[][]> loss = squaredError().evaluate(x, labels, true);
        double[][] grad = loss.gradient();
        for (int s = path.size() - 1; s >= 0; s--) {
            grad = path.get(s).backwardInput(0, grad, false);
        }
        return new Sequential(x, loss.value());
    }
}
