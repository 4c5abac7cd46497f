/**
 * Cross-module and GPU tests. The tests live in src/test/java; this module only gives them a name
 * and the modules they reach. GPU tests are tagged {@code gpu} and skipped, visibly, without one.
 */
module io.infra4j.integration {
    requires io.infra4j.memory;
    requires io.infra4j.benchmarks;
    requires io.infra4j.dualpipe;
    requires io.infra4j.flashmla;
    requires io.infra4j.deepgemm;
    requires io.infra4j.deepep;
    requires io.infra4j.threefs;

    exports io.infra4j.integration;
}
