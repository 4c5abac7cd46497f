package io.infra4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code infra4j read}: sha256sum's lines with --verify, sizes and speed without, clear errors. */
class ReadCommandTest {
    @TempDir
    Path dir;

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @Test
    void verifyPrintsWhatSha256sumPrints() throws Exception {
        byte[] small = "hello\n".getBytes();
        byte[] big = new byte[3_500_001];
        new SplittableRandom(5).nextBytes(big);
        Path a = Files.write(dir.resolve("a.txt"), small);
        Path b = Files.write(dir.resolve("b.bin"), big);
        Path empty = Files.write(dir.resolve("empty"), new byte[0]);
        Cli r = Cli.run("read", "--verify", "--no-progress", a.toString(), b.toString(), empty.toString());
        assertEquals(0, r.code(), r::toString);
        assertEquals(sha256(small) + "  " + a + "\n" + sha256(big) + "  " + b + "\n" + sha256(new byte[0]) + "  " + empty + "\n", r.out());
    }

    @Test
    void aMissingFileIsNamedAndTheOthersAreStillRead() throws Exception {
        Path a = Files.write(dir.resolve("a"), new byte[] {1, 2, 3});
        Cli r = Cli.run("read", "--verify", "--no-progress", dir.resolve("absent").toString(), a.toString(), dir.toString());
        assertEquals(1, r.code(), r::toString);
        assertTrue(r.err().contains("absent: No such file or directory"), r::toString);
        assertTrue(r.err().contains("Is a directory"), r::toString);
        assertEquals(sha256(new byte[] {1, 2, 3}) + "  " + a + "\n", r.out());
    }

    @Test
    void withoutVerifyItReportsBytesAndSpeed() throws Exception {
        Path a = Files.write(dir.resolve("a"), new byte[1 << 20]);
        Cli r = Cli.run("read", "--json", "--no-progress", a.toString());
        assertEquals(0, r.code(), r::toString);
        JsonNode doc = new ObjectMapper().readTree(r.out());
        assertEquals(1 << 20, doc.get("bytes").asLong());
        assertTrue(doc.get("mb_per_s").asDouble() > 0);
        Cli text = Cli.run("read", "--no-progress", a.toString());
        assertTrue(text.out().contains("1048576 bytes in"), text::toString);
    }

    @Test
    void usageErrors() {
        Cli none = Cli.run("read");
        assertEquals(2, none.code(), none::toString);
        assertTrue(none.err().contains("read needs at least one FILE"), none::toString);
        Cli threads = Cli.run("read", "--read-threads", "0", "x");
        assertEquals(2, threads.code(), threads::toString);
    }
}
