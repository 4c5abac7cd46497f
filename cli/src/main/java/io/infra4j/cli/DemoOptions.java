package io.infra4j.cli;

import java.util.Locale;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * The demo's own options.
 *
 * @param size   elements per tensor
 * @param device "auto", "cpu", "cuda" or "cuda:N"
 * @param seed   seed of the demo's Random, so runs can be repeated
 * @param stage  the one stage to run, or null for all
 */
public record DemoOptions(long size, String device, long seed, String stage) {
    public static final long DEFAULT_SIZE = 16L << 20;
    public static final long MAX_SIZE = 1L << 31;
    public static final long DEFAULT_SEED = 42;

    static final Option SIZE = Option.builder().longOpt("size").hasArg().argName("N")
            .desc("elements per tensor, default 16M (K, M, G are powers of 1024)").get();
    static final Option DEVICE = Option.builder().longOpt("device").hasArg().argName("auto|cpu|cuda")
            .desc("where to run; auto (default) takes GPU 0 when CUDA and the kernels are usable").get();
    static final Option STAGE = Option.builder().longOpt("stage").hasArg().argName("NAME")
            .desc("run this stage only (see the list below)").get();
    static final Option SEED = Option.builder().longOpt("seed").hasArg().argName("S")
            .desc("seed of the random inputs, default " + DEFAULT_SEED).get();

    static Options options() {
        return new Options().addOption(SIZE).addOption(DEVICE).addOption(STAGE).addOption(SEED);
    }

    static DemoOptions from(CommandLine line) throws UsageException {
        long size = line.hasOption(SIZE) ? parseSize(line.getOptionValue(SIZE)) : DEFAULT_SIZE;
        String device = line.getOptionValue(DEVICE, "auto").trim().toLowerCase(Locale.ROOT);
        if (!device.equals("auto") && !device.equals("cpu") && !device.matches("cuda(:\\d+)?")) {
            throw new UsageException("--device: expected auto, cpu, cuda or cuda:N, got '" + line.getOptionValue(DEVICE) + "'");
        }
        long seed = DEFAULT_SEED;
        if (line.hasOption(SEED)) {
            try {
                seed = Long.parseLong(line.getOptionValue(SEED).trim());
            } catch (NumberFormatException e) {
                throw new UsageException("--seed: expected an integer, got '" + line.getOptionValue(SEED) + "'");
            }
        }
        return new DemoOptions(size, device, seed, line.getOptionValue(STAGE));
    }

    /** "1000", "64K", "16M", "1G" (binary multiples). */
    static long parseSize(String text) throws UsageException {
        String t = text.trim().toUpperCase(Locale.ROOT).replace("_", "");
        long unit = 1;
        if (t.endsWith("K") || t.endsWith("M") || t.endsWith("G")) {
            unit = switch (t.charAt(t.length() - 1)) {
                case 'K' -> 1L << 10;
                case 'M' -> 1L << 20;
                default -> 1L << 30;
            };
            t = t.substring(0, t.length() - 1);
        }
        long n;
        try {
            n = Math.multiplyExact(Long.parseLong(t), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new UsageException("--size: expected a number of elements such as 100000 or 16M, got '" + text + "'");
        }
        if (n < 1 || n > MAX_SIZE) {
            throw new UsageException("--size: expected 1 to " + MAX_SIZE + " (2G) elements, got " + n);
        }
        return n;
    }
}
