/**
 * DeepSeek's DualPipe and DualPipeV: the schedules, op for op as upstream runs them, their checks
 * and timelines, and an executor that runs a schedule over pipeline stages and a communicator.
 */
module io.infra4j.dualpipe {
    requires com.fasterxml.jackson.databind;
    requires org.jfree.svg;
    requires java.desktop;
    requires transitive io.infra4j.memory; // NcclCommunicator's API speaks Tensor and NcclComm

    exports io.infra4j.dualpipe;
}
