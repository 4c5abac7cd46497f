/**
 * Benchmarks: JMH for CPU-side costs (FFM downcalls, codecs), a GPU timing harness that the other
 * modules reuse (CUDA events, warm-up, median, L2 flush), and the writer of benchmarks/results/.
 * JMH runs this code from the class path (it forks JVMs that way); the infra4j modules it measures
 * stay on the module path with native access granted only to them.
 */
module io.infra4j.benchmarks {
    requires transitive io.infra4j.memory;
    requires io.infra4j.eplb;
    requires io.infra4j.dualpipe;
    requires io.infra4j.flashmla;
    requires io.infra4j.deepgemm;
    requires io.infra4j.deepep;
    requires io.infra4j.threefs;
    requires io.infra4j.smallpond;
    requires jdk.unsupported; // com.sun.nio.file.ExtendedOpenOption.DIRECT: the FileChannel peer reads with O_DIRECT too
    requires jmh.core;
    requires com.fasterxml.jackson.databind;

    exports io.infra4j.benchmarks.gpu;
    exports io.infra4j.benchmarks.results;
    exports io.infra4j.benchmarks.foundation;
    exports io.infra4j.benchmarks.eplb;
    exports io.infra4j.benchmarks.dualpipe;
    exports io.infra4j.benchmarks.flashmla;
    exports io.infra4j.benchmarks.deepgemm;
    exports io.infra4j.benchmarks.deepep;
    exports io.infra4j.benchmarks.threefs;
    exports io.infra4j.benchmarks.smallpond;
    exports io.infra4j.benchmarks.nccl;
    opens io.infra4j.benchmarks.results to com.fasterxml.jackson.databind;
}
