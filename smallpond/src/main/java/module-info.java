/**
 * smallpond for Java: DuckDB's C API through FFM ({@link io.infra4j.smallpond.DuckDb}), with the native
 * library the Maven jar {@code org.duckdb:duckdb_jdbc} carries (its JDBC classes are not used); and a pure-Java
 * GraySort record generator and validator ({@link io.infra4j.smallpond.graysort.GensortGenerator},
 * {@link io.infra4j.smallpond.graysort.SortValidator}).
 */
module io.infra4j.smallpond {
    requires transitive io.infra4j.memory;
    requires duckdb.jdbc; // for its native library only
    // The library's JNI_OnLoad resolves java.sql classes (SQLException, ...): without this module in the
    // graph, loading it fails with NoClassDefFoundError when nothing else pulls java.sql in.
    requires java.sql;
    requires jdk.management; // the machine's memory, for each task's default DuckDB memory limit

    exports io.infra4j.smallpond;
    exports io.infra4j.smallpond.arrow;
    exports io.infra4j.smallpond.graysort;
}
