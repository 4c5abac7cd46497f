package io.infra4j.eplb;

/** Which of upstream's two policies a plan came from. */
public enum Policy {
    /**
     * numGroups % numNodes == 0: expert groups are packed onto nodes first, replicas are made
     * within each node, and each node's physical experts are packed onto its GPUs. Keeps an
     * expert group on one node, so group-limited routing stays within a node.
     */
    HIERARCHICAL,
    /** Otherwise: the same algorithm with one group and one node, over all GPUs at once. */
    GLOBAL;

    /** The policy upstream picks for these arguments. */
    public static Policy of(int numGroups, int numNodes) {
        return numGroups % numNodes == 0 ? HIERARCHICAL : GLOBAL;
    }
}
