package io.infra4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** infra4j's version, from the Maven descriptor inside the jar ("dev" when run from classes). */
final class Version {
    private static final String POM_PROPERTIES = "/META-INF/maven/io.infra4j/infra4j-cli/pom.properties";

    private Version() {}

    static String get() {
        try (InputStream in = Version.class.getResourceAsStream(POM_PROPERTIES)) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                return p.getProperty("version", "dev");
            }
        } catch (IOException e) {
            // fall through: a version is nice to have, never worth failing for
        }
        return Version.class.getModule().getDescriptor() != null
                ? Version.class.getModule().getDescriptor().rawVersion().orElse("dev")
                : "dev";
    }
}
