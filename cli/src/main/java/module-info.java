/**
 * The infra4j command line: {@code info} (what this machine offers), {@code demo} (the end-to-end
 * job), {@code eplb} (expert replica plans), {@code dualpipe} (pipeline schedules) and {@code bench}
 * (kernel timings on a GPU).
 */
module io.infra4j.cli {
    requires io.infra4j.memory;
    requires io.infra4j.eplb;
    requires io.infra4j.dualpipe;
    requires io.infra4j.flashmla;
    requires io.infra4j.deepgemm;
    requires io.infra4j.deepep;
    requires io.infra4j.threefs;
    requires io.infra4j.smallpond;
    requires io.infra4j.benchmarks; // its GPU timing harness, for 'bench'
    requires org.apache.commons.cli;
    requires com.fasterxml.jackson.databind;
    requires me.tongfei.progressbar;

    // Jackson serialises the report records by reflection.
    opens io.infra4j.cli to com.fasterxml.jackson.databind;
}
