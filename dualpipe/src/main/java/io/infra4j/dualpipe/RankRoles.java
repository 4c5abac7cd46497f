package io.infra4j.dualpipe;

/**
 * Where a rank's micro-batches come from and go to, per direction d: the caller's inputs (the
 * direction's first stage), the criterion (its last stage), or, on DualPipeV's last rank, the local
 * turn from module 0 to module 1. Everything else travels through the communicator.
 */
record RankRoles(Variant variant, int numRanks, int rank) {
    /** Direction d's micro-batches enter here, from the caller's inputs. */
    boolean entryAt(int d) {
        if (variant == Variant.DUALPIPE_V) {
            return d == 0 && rank == 0;
        }
        return rank == (d == 0 ? 0 : numRanks - 1);
    }

    /** Direction d's last stage is here: its outputs meet the criterion. */
    boolean lossAt(int d) {
        if (variant == Variant.DUALPIPE_V) {
            return d == 1 && rank == 0;
        }
        return rank == (d == 0 ? numRanks - 1 : 0);
    }

    /** DualPipeV's last rank: module 0's output is module 1's input, and gradients flow back the same way. */
    boolean turnsHere() {
        return variant == Variant.DUALPIPE_V && rank == numRanks - 1;
    }

    /** The direction whose micro-batch inputs this rank takes; labels go with the other one (-1: none). */
    int inputDirection() {
        return entryAt(0) ? 0 : entryAt(1) ? 1 : -1;
    }

    /** The direction whose loss this rank computes, or -1. */
    int lossDirection() {
        return lossAt(0) ? 0 : lossAt(1) ? 1 : -1;
    }

    /**
     * How many micro-batch inputs, and as many labels, this rank takes: DualPipe's two end ranks take
     * half the chunks each (inputs of one direction, labels of the other), DualPipeV's rank 0 all.
     */
    int microBatches(int numChunks) {
        if (inputDirection() < 0) {
            return 0;
        }
        return variant == Variant.DUALPIPE ? numChunks / 2 : numChunks;
    }
}
