package io.infra4j.benchmarks.dualpipe;

import io.infra4j.benchmarks.results.ResultTable;
import io.infra4j.benchmarks.results.ResultsWriter;
import io.infra4j.dualpipe.Costs;
import io.infra4j.dualpipe.DualPipe;
import io.infra4j.dualpipe.Mode;
import io.infra4j.dualpipe.NcclCommunicator;
import io.infra4j.dualpipe.NcclCommunicator.TensorSpec;
import io.infra4j.dualpipe.Op;
import io.infra4j.dualpipe.PipelineSchedule;
import io.infra4j.dualpipe.StepResult;
import io.infra4j.dualpipe.Timeline;
import io.infra4j.dualpipe.ToyMlp;
import io.infra4j.dualpipe.ToyPipelineSetup;
import io.infra4j.dualpipe.Variant;
import io.infra4j.ffm.Cuda;
import io.infra4j.ffm.CudaStream;
import io.infra4j.ffm.ResourceTracker;
import io.infra4j.ffm.nccl.NcclComm;
import io.infra4j.ffm.nccl.NcclUniqueId;
import io.infra4j.memory.DType;
import io.infra4j.memory.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * DualPipe and DualPipeV training steps over every visible GPU, one rank per GPU (a thread each, an
 * NCCL communicator rank each), with the FP64 toy model's stages ({@link DeviceStage}: computed on the
 * host, activations and gradients carried between GPUs by NCCL). The first step is checked against the
 * same stages run one after another on the whole batch (loss and every gradient, relative difference at
 * most {@value #LIMIT}); the next {@value #TIMED_STEPS} are timed op by op. The measured bubble of a rank
 * is its step time minus the time its ops ran; the expected one is the schedule simulated
 * ({@link Timeline#simulate}) with the mean measured op costs, communication free.
 *
 * <pre>java ... DualPipeNcclRun [--out benchmarks/results] [--commit SHA] [--driver V] [--width 256] [--rows 32]</pre>
 */
public final class DualPipeNcclRun {
    static final Mode MODE = Mode.TRAIN_OVERLAPPED;
    static final int LAYERS = 4;
    static final int TIMED_STEPS = 3;
    /** FP64 sums taken in another order differ by a few ulps; a wrong schedule or transfer, by far more. */
    static final double LIMIT = 1e-12;

    private DualPipeNcclRun() {}

    /** One step as every rank saw it: its wall time and its ops. */
    record RankStep(long startNs, long endNs, List<DeviceStage.OpTime> ops) {
        double ms() {
            return (endNs - startNs) / 1e6;
        }

        double busyMs() {
            return ops.stream().mapToDouble(DeviceStage.OpTime::ms).sum();
        }
    }

    record Outcome(double loss, double referenceLoss, double gradDiff, boolean hasGradients, int inFlight,
            List<List<RankStep>> steps, long deviceBytesLeft) {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!List.of("--out", "--commit", "--driver", "--width", "--rows").contains(args[i]) || i + 1 >= args.length) {
                throw new IllegalArgumentException("options: --out DIR, --commit SHA, --driver V, --width N, --rows N; got " + args[i]);
            }
            opt.put(args[i], args[i + 1]);
        }
        int width = Integer.parseInt(opt.getOrDefault("--width", "256"));
        int rows = Integer.parseInt(opt.getOrDefault("--rows", "32"));
        int n = Cuda.deviceCount();
        if (n < 2) {
            System.out.println("DualPipe over NCCL skipped: it needs 2 GPUs or more, " + n + " here");
            return;
        }
        ResultTable table = new ResultTable("Training steps over " + n + " GPUs (" + MODE.upstreamName() + ", FP64 toy model: "
                + LAYERS + " tanh layers of width " + width + " per stage, " + rows + " rows per micro-batch)",
                "schedule", "GPUs", "stages", "chunks", "loss rel. diff", "max grad rel. diff", "F ms", "B ms", "W ms",
                "F&B ms", "step ms (median)", "measured max bubble ms", "replayed bubble ms", "simulated bubble ms", "measured / simulated",
                "formula (PP/2-1)(F&B+B-3W) ms", "1F1B bubble ms (same costs)", "parity");
        List<String> failures = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (Variant variant : List.of(Variant.DUALPIPE, Variant.DUALPIPE_V)) {
            if (variant == Variant.DUALPIPE && n % 2 != 0) {
                notes.add("DualPipe skipped: it needs an even number of ranks, " + n + " GPUs here");
                continue;
            }
            int chunks = 4 * n;
            String label = variant + " " + n + "x" + chunks;
            System.out.println("== " + label);
            ToyPipelineSetup toy = new ToyPipelineSetup(variant, n, chunks, width, LAYERS, rows, new Random(n * 31L + variant.ordinal()));
            Outcome o = run(variant, n, chunks, width, rows, toy);
            double lossDiff = ToyPipelineSetup.relativeDifference(o.loss(), o.referenceLoss());
            boolean parity = lossDiff <= LIMIT && o.gradDiff() <= LIMIT && o.hasGradients() && o.inFlight() == 0;
            if (!parity) {
                failures.add(label + ": loss diff " + lossDiff + ", grad diff " + o.gradDiff() + ", gradients "
                        + o.hasGradients() + ", in flight " + o.inFlight());
            }
            if (o.deviceBytesLeft() != 0) {
                failures.add(label + ": " + o.deviceBytesLeft() + " device bytes left allocated after the run");
            }
            Costs costs = measuredCosts(o.steps());
            PipelineSchedule schedule = PipelineSchedule.of(variant, n, chunks, MODE);
            int stages = variant == Variant.DUALPIPE_V ? 2 * n : n;
            double simulated = Timeline.simulate(schedule, costs).maxBubble();
            double oneF = Timeline.simulate(PipelineSchedule.oneFOneB(stages, chunks, MODE), costs).maxBubble();
            double[] stepMs = new double[o.steps().size()];
            double measuredBubble = 0;
            double replayedBubble = 0;
            for (int s = 0; s < stepMs.length; s++) {
                List<RankStep> ranks = o.steps().get(s);
                stepMs[s] = ranks.stream().mapToDouble(RankStep::ms).max().orElseThrow();
                double bubble = ranks.stream().mapToDouble(r -> r.ms() - r.busyMs()).max().orElseThrow();
                measuredBubble += bubble / stepMs.length;
                Timeline replay = replay(schedule, costs, ranks);
                replayedBubble += replay.maxBubble() / stepMs.length;
                System.out.printf(Locale.ROOT, "  timed step %d: %.1f ms (replayed %.1f); bubble per rank measured %s, replayed %s%n", s + 1,
                        stepMs[s], replay.makespan(), ranks.stream().map(r -> String.format(Locale.ROOT, "%.1f", r.ms() - r.busyMs())).toList(),
                        java.util.stream.IntStream.range(0, n).mapToObj(r -> String.format(Locale.ROOT, "%.1f", replay.bubble(r))).toList());
            }
            Arrays.sort(stepMs);
            double formula = (stages / 2 - 1) * (costs.fb() + costs.b() - 3 * costs.w());
            table.row(variant.toString(), n, stages, chunks, lossDiff, o.gradDiff(), costs.f(), costs.b(), costs.w(), costs.fb(),
                    stepMs[stepMs.length / 2], measuredBubble, replayedBubble, simulated, simulated > 0 ? measuredBubble / simulated : null,
                    formula, oneF, parity ? "same loss and gradients" : "FAILED");
            System.out.printf(Locale.ROOT, "%s: loss diff %.2e, grad diff %.2e, step %.1f ms, bubble measured %.2f ms, simulated %.2f ms "
                    + "(F %.2f B %.2f W %.2f F&B %.2f ms)%n", label, lossDiff, o.gradDiff(), stepMs[stepMs.length / 2],
                    measuredBubble, simulated, costs.f(), costs.b(), costs.w(), costs.fb());
        }
        ResultsWriter writer = new ResultsWriter("dualpipe-nccl", "DualPipe over NCCL on several GPUs")
                .environment("GPU", n + " x " + Cuda.device(0).name())
                .environment("driver", opt.getOrDefault("--driver", "?"))
                .environment("commit", opt.getOrDefault("--commit", "?"))
                .environment("NVLink multicast", "off (NCCL_NVLS_ENABLE=" + System.getenv().getOrDefault("NCCL_NVLS_ENABLE", "unset") + ")")
                .table(table)
                .note("Stages compute on the host in FP64 (a thread per rank); each rank's activations and gradients cross GPUs "
                        + "through NcclCommunicator (ncclSend/ncclRecv in groups), as the bit patterns of the doubles.")
                .note("Bubbles: measured = a rank's step time minus the time its ops ran (includes waiting on transfers and the "
                        + "executor), mean over " + TIMED_STEPS + " timed steps, largest rank; replayed = the schedule re-run "
                        + "with every op's own measured duration, communication free (what the ops' spread alone explains); "
                        + "simulated = the schedule with the mean op costs, communication free.");
        notes.forEach(writer::note);
        failures.forEach(f -> writer.note("FAILED: " + f));
        Path md = writer.appendTo(Path.of(opt.getOrDefault("--out", "benchmarks/results")));
        System.out.println("results appended to " + md);
        if (!failures.isEmpty()) {
            throw new IllegalStateException("DualPipe over NCCL failed: " + failures);
        }
    }

    /**
     * The step replayed with each rank's measured op durations: the executor runs a rank's compute ops
     * in its schedule order, so the k-th timed op of a rank is the k-th compute op of its list.
     */
    static Timeline replay(PipelineSchedule schedule, Costs nominal, List<RankStep> ranks) {
        int n = schedule.numRanks();
        Map<Long, Double> cost = new HashMap<>();
        for (int r = 0; r < n; r++) {
            List<Op> ops = schedule.ranks().get(r);
            List<DeviceStage.OpTime> timed = ranks.get(r).ops();
            int k = 0;
            for (int i = 0; i < ops.size(); i++) {
                Op op = ops.get(i);
                if (nominal.of(op) <= 0) {
                    continue;
                }
                String kind = kindOf(op);
                if (k >= timed.size() || !timed.get(k).kind().equals(kind)) {
                    throw new IllegalStateException("rank " + r + ": timed op " + k + " is " + (k < timed.size() ? timed.get(k).kind() : "missing")
                            + ", the schedule's is " + kind);
                }
                cost.put(((long) r << 32) | i, timed.get(k++).ms());
            }
        }
        return Timeline.simulate(schedule, nominal, (r, i, op) -> cost.get(((long) r << 32) | i));
    }

    /** The kind {@link DeviceStage} records for a compute op of the schedule. */
    static String kindOf(Op op) {
        return switch (op) {
            case Op.Forward x -> "F";
            case Op.Backward x -> x.zeroBubble() ? "Bi" : "B";
            case Op.ForwardBackward x -> "FB";
            default -> "W";
        };
    }

    /** Mean op times; B is a whole backward (its input half plus W where the schedule split it). */
    static Costs measuredCosts(List<List<RankStep>> steps) {
        Map<String, double[]> sums = new HashMap<>(); // kind -> {total ms, count}
        for (List<RankStep> step : steps) {
            for (RankStep r : step) {
                for (DeviceStage.OpTime t : r.ops()) {
                    double[] s = sums.computeIfAbsent(t.kind(), k -> new double[2]);
                    s[0] += t.ms();
                    s[1]++;
                }
            }
        }
        java.util.function.ToDoubleFunction<String> mean = k -> sums.containsKey(k) ? sums.get(k)[0] / sums.get(k)[1] : Double.NaN;
        double f = mean.applyAsDouble("F");
        double w = sums.containsKey("W") ? mean.applyAsDouble("W") : 0;
        double b = sums.containsKey("B") ? mean.applyAsDouble("B") : mean.applyAsDouble("Bi") + w;
        double fb = sums.containsKey("FB") ? mean.applyAsDouble("FB") : f + b;
        return new Costs(f, b, Math.min(w, 0.999 * b), fb);
    }

    static Outcome run(Variant variant, int n, int chunks, int width, int rows, ToyPipelineSetup toy) throws Exception {
        ToyMlp[][] reference = toy.copies(); // before the step, while the gradients are still zero
        double referenceLoss = toy.runReference(reference);
        double[] firstStep = new double[2]; // gradient difference and micro-batches in flight after the checked step
        Runnable check = () -> {
            firstStep[0] = toy.maxGradientDifference(reference);
            firstStep[1] = toy.inFlight();
        };
        long bytesBefore = deviceBytes();
        NcclUniqueId id = NcclUniqueId.create();
        CyclicBarrier barrier = new CyclicBarrier(n);
        List<TensorSpec> specs = List.of(TensorSpec.of(DType.I64, rows, width));
        List<DualPipe.RankSetup<double[][]>> setups = toy.setups();
        ExecutorService pool = Executors.newFixedThreadPool(n);
        List<Future<List<Object>>> futures = new ArrayList<>();
        try {
            for (int r = 0; r < n; r++) {
                int rank = r;
                futures.add(pool.submit(() -> runRank(variant, n, chunks, rank, id, barrier, specs, setups.get(rank), check)));
            }
            double loss = 0;
            List<List<RankStep>> steps = new ArrayList<>();
            for (int s = 0; s < TIMED_STEPS; s++) {
                steps.add(new ArrayList<>());
            }
            for (Future<List<Object>> f : futures) {
                List<Object> got = f.get();
                loss += (Double) got.get(0);
                for (int s = 0; s < TIMED_STEPS; s++) {
                    steps.get(s).add((RankStep) got.get(1 + s));
                }
            }
            return new Outcome(loss, referenceLoss, firstStep[0], ToyPipelineSetup.hasGradients(reference), (int) firstStep[1],
                    steps, deviceBytes() - bytesBefore);
        } finally {
            pool.shutdownNow();
        }
    }

    private static long deviceBytes() {
        return ResourceTracker.live().stream().filter(e -> e.kind().equals("device-memory")).mapToLong(ResourceTracker.Entry::bytes).sum();
    }

    /** One rank: the checked step, then the timed ones. Returns [first step's loss, RankStep x TIMED_STEPS]. */
    private static List<Object> runRank(Variant variant, int n, int chunks, int rank, NcclUniqueId id, CyclicBarrier barrier,
            List<TensorSpec> specs, DualPipe.RankSetup<double[][]> setup, Runnable checkFirstStep) throws Exception {
        Cuda.useDevice(rank);
        try (NcclComm comm = NcclComm.initRank(n, id, rank, Cuda.device(rank));
             CudaStream stream = CudaStream.create(Cuda.device(rank));
             NcclCommunicator communicator = new NcclCommunicator(comm, stream, specs)) {
            List<Object> out = new ArrayList<>();
            for (int s = 0; s <= TIMED_STEPS; s++) {
                try (DeviceStage.RankIo io = new DeviceStage.RankIo(rank, stream)) {
                    DeviceStage stage0 = new DeviceStage(setup.stage0(), io);
                    DeviceStage stage1 = new DeviceStage(setup.stage1(), io);
                    List<List<Tensor>> inputs = setup.inputs().stream().map(io::toDevice).toList();
                    List<List<Tensor>> labels = setup.labels().stream().map(io::toDevice).toList();
                    DualPipe<List<Tensor>> pipe = new DualPipe<>(variant, rank, n, stage0, stage1, communicator, MODE);
                    io.times.clear();
                    barrier.await();
                    long t0 = System.nanoTime();
                    StepResult<List<Tensor>> result = pipe.step(chunks, inputs, labels, DeviceStage.criterion(ToyMlp.squaredError(), io));
                    long t1 = System.nanoTime();
                    result.outputs().forEach(io::toHost); // outputs become io's to close
                    if (s == 0) {
                        out.add(result.totalLoss());
                        barrier.await(); // every rank's first step is done: its gradients are the ones to check
                        if (rank == 0) {
                            checkFirstStep.run();
                        }
                        barrier.await();
                    } else {
                        out.add(new RankStep(t0, t1, List.copyOf(io.times)));
                    }
                }
            }
            return out;
        }
    }
}
