/** The native libraries built from native-src, carried as resources under native/linux-x86_64/. */
module io.infra4j.natives {
    exports io.infra4j.natives;
}
