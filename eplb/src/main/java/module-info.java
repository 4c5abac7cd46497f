/**
 * DeepSeek's expert-parallel load balancer (EPLB) in pure Java: replica plans identical to
 * upstream's, load statistics before and after, charts, and the golden-case batch format.
 */
module io.infra4j.eplb {
    requires com.fasterxml.jackson.databind;
    requires org.jfree.jfreechart;
    requires org.jfree.svg;
    requires java.desktop;

    exports io.infra4j.eplb;
    exports io.infra4j.eplb.io;
}
