package io.infra4j.smallpond;

/** One stage of a run: its name, how many tasks it ran (and how many it found done), and its wall seconds. */
public record StageTiming(String name, int tasks, int reused, double seconds) {}
