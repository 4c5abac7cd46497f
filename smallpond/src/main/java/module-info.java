/**
 * smallpond for Java: DuckDB's C API through FFM ({@link io.infra4j.smallpond.DuckDb}), with the native
 * library the Maven jar {@code org.duckdb:duckdb_jdbc} carries (its JDBC classes are not used); Arrow batches
 * over native memory and the Arrow C Data Interface ({@link io.infra4j.smallpond.arrow.ArrowCData}), written here
 * without Arrow's Java libraries.
 */
module io.infra4j.smallpond {
    requires transitive io.infra4j.memory;
    requires duckdb.jdbc; // for its native library only

    exports io.infra4j.smallpond;
    exports io.infra4j.smallpond.arrow;
}
