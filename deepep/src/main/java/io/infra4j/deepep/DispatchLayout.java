package io.infra4j.deepep;

/**
 * Where one rank's tokens go, as DeepEP's {@code get_dispatch_layout} reports it.
 *
 * @param tokensPerRank   {@code [W]}: tokens with at least one expert on each rank (a token counts
 *                        once per rank however many of its experts are there)
 * @param tokensPerExpert {@code [E]}: (token, slot) pairs routed to each expert
 * @param tokenInRank     {@code [T, W]} row-major: whether token t goes to rank r
 */
public record DispatchLayout(ExpertPlacement placement, int numTokens, int[] tokensPerRank, int[] tokensPerExpert,
        boolean[] tokenInRank) {

    /** The layout of {@code routing} over {@code placement} (ids of -1 go nowhere). */
    public static DispatchLayout of(Routing routing, ExpertPlacement placement) {
        routing.check(placement);
        int w = placement.worldSize();
        int t = routing.numTokens();
        int[] perRank = new int[w];
        int[] perExpert = new int[placement.numExperts()];
        boolean[] inRank = new boolean[t * w];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < routing.topK(); j++) {
                long e = routing.expert(i, j);
                if (e < 0) {
                    continue;
                }
                perExpert[(int) e]++;
                int r = placement.rankOf(e);
                if (!inRank[i * w + r]) {
                    inRank[i * w + r] = true;
                    perRank[r]++;
                }
            }
        }
        return new DispatchLayout(placement, t, perRank, perExpert, inRank);
    }

    /** Whether token t goes to rank r. */
    public boolean isTokenInRank(int t, int r) {
        return tokenInRank[t * placement.worldSize() + r];
    }
}
