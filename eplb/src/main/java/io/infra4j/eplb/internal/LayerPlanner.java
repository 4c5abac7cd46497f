package io.infra4j.eplb.internal;

/**
 * One layer of upstream's {@code rebalance_experts_hierarchical} (the global policy is the same with
 * one group and one node): groups onto nodes, replicas within each node, replicas onto GPUs.
 * Arguments are checked by the caller ({@code Eplb}). Reused across layers; not thread-safe.
 */
public final class LayerPlanner {
    private final int[] phy2log;
    private final int[] phyRank;
    private final int[] logcnt;
    private final TorchSum sum = new TorchSum();

    public LayerPlanner(int replicas, int experts) {
        phy2log = new int[replicas];
        phyRank = new int[replicas];
        logcnt = new int[experts];
    }

    public void plan(float[] w, int groups, int nodes, int gpus) {
        int experts = w.length;
        int replicas = phy2log.length;
        int groupSize = experts / groups;
        int groupsPerNode = groups / nodes;
        int slotsPerGpu = replicas / gpus;
        int expertsPerNode = experts / nodes;
        int slotsPerNode = replicas / nodes;
        int gpusPerNode = gpus / nodes;

        // 1. Groups onto nodes, by each group's summed load. "mlog" numbers experts node by node.
        float[] groupLoad = new float[groups];
        for (int g = 0; g < groups; g++) {
            groupLoad[g] = sum.sum(w, g * groupSize, groupSize);
        }
        Packing.Result byNode = Packing.pack(groupLoad, nodes);
        int[] log2mlog = new int[experts];
        int[] mlog2log = new int[experts];
        for (int e = 0; e < experts; e++) {
            int g = e / groupSize;
            int m = (byNode.pack()[g] * groupsPerNode + byNode.rank()[g]) * groupSize + e % groupSize;
            log2mlog[e] = m;
            mlog2log[m] = e;
        }

        int[] mlogcnt = new int[experts];
        for (int n = 0; n < nodes; n++) {
            // 2. Replicas within the node.
            float[] load = new float[expertsPerNode];
            for (int i = 0; i < expertsPerNode; i++) {
                load[i] = w[mlog2log[n * expertsPerNode + i]];
            }
            Replication.Result rep = Replication.replicate(load, slotsPerNode);
            System.arraycopy(rep.count(), 0, mlogcnt, n * expertsPerNode, expertsPerNode);

            // 3. The node's physical experts onto its GPUs, by load per replica.
            float[] perSlot = new float[slotsPerNode];
            for (int j = 0; j < slotsPerNode; j++) {
                int m = rep.phy2log()[j];
                perSlot[j] = load[m] / (float) rep.count()[m];
            }
            Packing.Result byGpu = Packing.pack(perSlot, gpusPerNode);
            int[] packed2slot = new int[slotsPerNode];
            for (int j = 0; j < slotsPerNode; j++) {
                packed2slot[byGpu.pack()[j] * slotsPerGpu + byGpu.rank()[j]] = j;
            }
            for (int k = 0; k < slotsPerNode; k++) {
                int j = packed2slot[k];
                int slot = n * slotsPerNode + k;
                phy2log[slot] = mlog2log[rep.phy2log()[j] + n * expertsPerNode];
                phyRank[slot] = rep.rank()[j];
            }
        }
        for (int e = 0; e < experts; e++) {
            logcnt[e] = mlogcnt[log2mlog[e]];
        }
    }

    /** Copies the last layer's result into flat plan arrays at the given offsets. */
    public void copyInto(int[] phy2logOut, int[] phyRankOut, int slotOffset, int[] logcntOut, int expertOffset) {
        System.arraycopy(phy2log, 0, phy2logOut, slotOffset, phy2log.length);
        System.arraycopy(phyRank, 0, phyRankOut, slotOffset, phyRank.length);
        System.arraycopy(logcnt, 0, logcntOut, expertOffset, logcnt.length);
    }
}
