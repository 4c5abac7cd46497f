/** The infra4j command line: {@code info} (what this machine offers) and {@code demo} (the end-to-end job). */
module io.infra4j.cli {
    requires io.infra4j.memory;
    requires org.apache.commons.cli;
    requires com.fasterxml.jackson.databind;
    requires me.tongfei.progressbar;

    // Jackson serialises the report records by reflection.
    opens io.infra4j.cli to com.fasterxml.jackson.databind;
}
